"""Releases: the fleet stores only what a trusted release key signed, whole and new."""

import pytest

from fleet.db import session
from fleet.ota import OTAError, releases
from protocol import cbor
from tests.fleet.api_support import make_settings
from tests.fleet.ota_support import build, keys_file, new_key
from tools import release


@pytest.fixture
def key():
    return new_key()


@pytest.fixture
def settings(db_url, tmp_path, key):
    return make_settings(db_url, release_keys=keys_file(tmp_path, key))


def _refused(engine, settings, manifest, bundle):
    with session(engine) as db, pytest.raises(OTAError) as e:
        releases.upload(db, settings, manifest, bundle, None)
    with session(engine) as db:
        assert releases.list_releases(db) == []
    return e.value


def test_a_signed_release_is_stored_with_its_manifest_fields(engine, settings, key):
    manifest, bundle = build(key, 7, version="0.3.0", hw="micropython-esp32")
    with session(engine) as db:
        rel = releases.upload(db, settings, manifest, bundle, None)
    with session(engine) as db:
        (got,) = releases.list_releases(db)
        assert (got.seq, got.version, got.hardware, got.size) == (7, "0.3.0", "micropython-esp32",
                                                                  len(bundle))  # fmt: skip
        assert got.bundle == bundle and got.manifest == manifest and got.id == rel.id
        assert got.kid == release.kid_of(release.public_bytes(key))


def test_a_forged_manifest_is_refused(engine, settings, key):
    manifest, bundle = build(key, 7)
    tag = cbor.loads(manifest)
    m = cbor.loads(tag.value[2])
    m[release.M_VERSION] = "9.9.9"  # changed after signing
    tag.value[2] = cbor.dumps(m)
    e = _refused(engine, settings, cbor.dumps(tag), bundle)
    assert e.reason == "manifest signature does not verify" and e.status == 400
    assert (e.code, e.params) == ("bad_signature", {})


def test_a_valid_signature_from_an_untrusted_key_is_refused(engine, settings):
    e = _refused(engine, settings, *build(new_key(), 7))
    assert e.reason == "manifest signed by an untrusted key" and e.code == "untrusted_key"


def test_a_bundle_with_one_flipped_byte_is_refused(engine, settings, key):
    manifest, bundle = build(key, 7)
    flipped = bytearray(bundle)
    flipped[len(flipped) // 2] ^= 0x01
    e = _refused(engine, settings, manifest, bytes(flipped))
    assert e.reason == "bundle SHA-256 differs from the manifest's"
    assert e.code == "digest_mismatch"
    e = _refused(engine, settings, manifest, bundle + b"x")
    assert "the manifest says" in e.reason
    assert (e.code, e.params) == ("size_mismatch", {"size": len(bundle) + 1, "said": len(bundle)})


def test_a_sequence_number_already_stored_is_refused(engine, settings, key):
    with session(engine) as db:
        releases.upload(db, settings, *build(key, 7), None)
    with session(engine) as db, pytest.raises(OTAError) as e:
        releases.upload(db, settings, *build(key, 7, version="0.2.1"), None)
    assert "already stored" in e.value.reason
    assert (e.value.code, e.value.params) == ("duplicate_seq", {"seq": 7})
    with session(engine) as db:
        assert [r.version for r in releases.list_releases(db)] == ["0.2.0"]


def test_no_trusted_keys_no_releases(engine, db_url, key):
    e = _refused(engine, make_settings(db_url), *build(key, 7))
    assert "FLEET_RELEASE_KEYS" in e.reason and e.code == "no_release_keys"


def test_a_bundle_over_the_limit_is_refused_as_too_big(engine, db_url, tmp_path, key):
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key),
                             ota_max_bundle_bytes=64)  # fmt: skip
    e = _refused(engine, settings, *build(key, 7, body=b"#" * 100))
    assert e.status == 413 and (e.code, e.params) == ("too_big", {"what": "bundle", "limit": 64})


def test_garbage_is_refused_with_a_reason(engine, settings):
    for junk in (b"", b"\xff\x00", cbor.dumps([1, 2, 3])):
        e = _refused(engine, settings, junk, b"PTB1")
        assert e.reason.startswith("not a signed manifest") and e.code == "not_signed"
        assert e.reason == "not a signed manifest: " + e.params["error"]
