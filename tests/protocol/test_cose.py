"""protocol.cose: COSE_Sign1 made by cbor2 and `cryptography` verifies; anything malformed,
mis-signed or mis-labelled raises COSEError and nothing else; the same on MicroPython."""

from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import cbor
from protocol.cose import verify_sign1
from protocol.errors import COSEError
from tests.mp.cose_vectors import EDDSA_SIG_01
from tests.mpy import run_micropython

h = bytes.fromhex

MP_DIR = Path(__file__).resolve().parents[1] / "mp"
RELEASE = Ed25519PrivateKey.from_private_bytes(b"\x11" * 32)
OTHER = Ed25519PrivateKey.from_private_bytes(b"\x22" * 32)
MANIFEST = cbor2.dumps({"version": "1.2.3", "size": 123456, "sha256": b"\x00" * 32})


def public(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign1(payload, key, protected=None, unprotected=None, external_aad=b"", tagged=True):
    """A COSE_Sign1 built independently of protocol/: cbor2 for the encoding."""
    protected = cbor2.dumps({1: -8} if protected is None else protected)
    to_be_signed = cbor2.dumps(["Signature1", protected, external_aad, payload])
    item = [protected, unprotected or {}, payload, key.sign(to_be_signed)]
    return cbor2.dumps(cbor2.CBORTag(18, item) if tagged else item)


def release_sign(payload, key, kid=None):
    """The signing helper a release tool would have: protocol.cbor, alg and kid protected."""
    protected = {1: -8} if kid is None else {1: -8, 4: kid}
    raw = cbor.dumps(protected)
    signature = key.sign(cbor.dumps(["Signature1", raw, b"", payload]))
    return cbor.dumps(cbor.Tag(18, [raw, {}, payload, signature]))


def rejected(data, keys=None, **kw):
    with pytest.raises(COSEError) as e:
        verify_sign1(data, [public(RELEASE)] if keys is None else keys, **kw)
    return str(e.value)


# ---- what verifies ------------------------------------------------------------------


def test_cose_wg_eddsa_sig_01():
    ex = EDDSA_SIG_01
    data, key = h(ex["cbor"]), h(ex["public_key"])
    assert verify_sign1(data, [key]) == ex["payload"]
    assert verify_sign1(data, [(b"10", h("00" * 32)), (ex["kid"], key)]) == ex["payload"]
    # The Sig_structure this module builds is the example's ToBeSign, byte for byte.
    protected = cbor2.loads(data).value[0]
    assert cbor.dumps(["Signature1", protected, b"", ex["payload"]]) == h(ex["to_be_signed"])


def test_cbor2_built_sign1_verifies_and_returns_the_payload():
    assert verify_sign1(sign1(MANIFEST, RELEASE), [public(RELEASE)]) == MANIFEST


def test_untagged_sign1_verifies():
    assert verify_sign1(sign1(MANIFEST, RELEASE, tagged=False), [public(RELEASE)]) == MANIFEST


def test_release_helper_output_verifies_with_kid():
    data = release_sign(MANIFEST, RELEASE, kid=b"release-2025")
    keys = [(b"old", public(OTHER)), (b"release-2025", public(RELEASE))]
    assert verify_sign1(data, keys) == MANIFEST


def test_any_trusted_key_may_have_signed():
    data = sign1(MANIFEST, RELEASE)
    assert verify_sign1(data, [public(OTHER), public(RELEASE)]) == MANIFEST


def test_kid_in_unprotected_bucket_selects_the_key():
    data = sign1(MANIFEST, RELEASE, unprotected={4: b"r1"})
    assert verify_sign1(data, [(b"r0", public(OTHER)), (b"r1", public(RELEASE))]) == MANIFEST
    # A key listed without a kid is always tried.
    assert verify_sign1(data, [(None, public(RELEASE))]) == MANIFEST


def test_external_aad_is_signed():
    data = sign1(MANIFEST, RELEASE, external_aad=b"hub-42")
    assert verify_sign1(data, [public(RELEASE)], external_aad=b"hub-42") == MANIFEST
    assert "does not verify" in rejected(data, external_aad=b"hub-43")
    assert "does not verify" in rejected(data)


def test_empty_payload_verifies():
    assert verify_sign1(sign1(b"", RELEASE), [public(RELEASE)]) == b""


# ---- what does not ------------------------------------------------------------------


def test_wrong_key_and_no_keys_are_rejected():
    assert "does not verify" in rejected(sign1(MANIFEST, OTHER))
    assert rejected(sign1(MANIFEST, RELEASE), keys=[])


def test_kid_with_no_matching_key_is_rejected():
    data = sign1(MANIFEST, RELEASE, protected={1: -8, 4: b"r9"})
    assert "kid" in rejected(data, keys=[(b"r1", public(RELEASE))])


def test_kid_chooses_the_key_so_a_wrong_kid_fails():
    data = sign1(MANIFEST, RELEASE, protected={1: -8, 4: b"r1"})
    assert "does not verify" in rejected(data, keys=[(b"r1", public(OTHER))])


def test_tampered_payload_is_rejected():
    item = list(cbor2.loads(sign1(MANIFEST, RELEASE)).value)
    item[2] = MANIFEST[:-1] + b"\x01"
    assert "does not verify" in rejected(cbor2.dumps(cbor2.CBORTag(18, item)))


def test_tampered_protected_header_is_rejected():
    item = list(cbor2.loads(sign1(MANIFEST, RELEASE, protected={1: -8, 4: b"a"})).value)
    item[0] = cbor2.dumps({1: -8, 4: b"b"})
    assert "does not verify" in rejected(cbor2.dumps(cbor2.CBORTag(18, item)))


@pytest.mark.parametrize(
    "protected",
    [{}, {1: -7}, {1: -8.0}, {1: "EdDSA"}, {True: -8}, {1.0: -8}, {4: b"k"}],
    ids=["no-alg", "es256", "float-alg", "text-alg", "bool-label", "float-label", "kid-only"],
)
def test_protected_alg_must_be_eddsa(protected):
    assert rejected(sign1(MANIFEST, RELEASE, protected=protected))


def test_alg_only_in_unprotected_bucket_is_rejected():
    data = sign1(MANIFEST, RELEASE, protected={}, unprotected={1: -8})
    assert "alg" in rejected(data)


def test_zero_length_protected_is_the_empty_map():
    item = [b"", {1: -8}, MANIFEST, b"\x00" * 64]
    assert "alg" in rejected(cbor2.dumps(cbor2.CBORTag(18, item)))


def test_label_in_both_buckets_is_rejected():
    data = sign1(MANIFEST, RELEASE, protected={1: -8, 4: b"a"}, unprotected={4: b"a"})
    assert "both" in rejected(data)


def test_unknown_critical_header_is_rejected_and_known_accepted():
    assert "critical" in rejected(sign1(MANIFEST, RELEASE, protected={1: -8, 2: [99], 99: 1}))
    assert rejected(sign1(MANIFEST, RELEASE, protected={1: -8, 2: []}))
    ok = sign1(MANIFEST, RELEASE, protected={1: -8, 2: [4], 4: b"k"})
    assert verify_sign1(ok, [public(RELEASE)]) == MANIFEST


@pytest.mark.parametrize(
    "item",
    [
        cbor2.CBORTag(98, [b"", {}, b"x", b"\x00" * 64]),  # COSE_Sign, not Sign1
        cbor2.CBORTag(18, [b"", {}, b"x"]),
        cbor2.CBORTag(18, [b"", {}, b"x", b"\x00" * 64, b""]),
        cbor2.CBORTag(18, {"a": 1}),
        [cbor2.dumps({1: -8}), {}, None, b"\x00" * 64],  # detached payload
        [cbor2.dumps({1: -8}), {}, "text", b"\x00" * 64],
        [cbor2.dumps({1: -8}), {}, b"x", b"\x00" * 63],
        [cbor2.dumps({1: -8}), {}, b"x", "sig"],
        [cbor2.dumps({1: -8}), [], b"x", b"\x00" * 64],
        [{1: -8}, {}, b"x", b"\x00" * 64],  # protected not wrapped in a bstr
        [b"\xa1\x01", {}, b"x", b"\x00" * 64],  # protected bstr is truncated CBOR
        [cbor2.dumps([1, -8]), {}, b"x", b"\x00" * 64],
        [cbor2.dumps({1: -8, 4: "text-kid"}), {}, b"x", b"\x00" * 64],
        [cbor2.dumps({1: -8}), {(1, 2): 3}, b"x", b"\x00" * 64],
        b"not an array",
    ],
)
def test_malformed_structure_is_rejected(item):
    assert rejected(cbor2.dumps(item))


def test_not_cbor_or_trailing_bytes_is_rejected():
    good = sign1(MANIFEST, RELEASE)
    assert "CBOR" in rejected(good + b"\x00")
    assert "CBOR" in rejected(good[:-1])
    assert "CBOR" in rejected(b"")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_raise_only_cose_error(data):
    with pytest.raises(COSEError):
        verify_sign1(data, [public(RELEASE)])


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats()
    | st.binary(max_size=70)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.integers(-9, 9) | st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=12,
)
HEADERS = st.dictionaries(st.sampled_from([1, 2, 3, 4, -1, "x"]), VALUES, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(HEADERS.map(cbor2.dumps), VALUES),
    st.one_of(HEADERS, VALUES),
    VALUES,
    st.one_of(st.binary(min_size=64, max_size=64), VALUES),
    st.sampled_from([None, 18, 98]),
)
def test_fuzz_sign1_shaped_items_raise_only_cose_error(protected, unprotected, payload, sig, tag):
    item = [protected, unprotected, payload, sig]
    data = cbor2.dumps(item if tag is None else cbor2.CBORTag(tag, item))
    with pytest.raises(COSEError):
        verify_sign1(data, [public(RELEASE), (b"k", public(OTHER))])


GOOD = sign1(MANIFEST, RELEASE, unprotected={4: b"r1"})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1))
def test_fuzz_mutations_raise_only_cose_error_or_verify(edits):
    data = bytearray(GOOD)
    for pos, xor in edits:
        data[pos] ^= xor
    try:
        payload = verify_sign1(bytes(data), [public(RELEASE)])
    except COSEError:
        return
    # Only the unprotected bucket is outside the signature, so only it may change.
    assert payload == MANIFEST


# ---- on the hub -----------------------------------------------------------------------


def test_sign1_on_micropython(tmp_path):
    good = release_sign(MANIFEST, RELEASE, kid=b"r1")
    forged = sign1(MANIFEST, OTHER, protected={1: -8, 4: b"r1"})
    # Through a file: the unix port dies ("FATAL: uncaught NLR") on an argument of 256
    # characters or more.
    hexes = tmp_path / "sign1.hex"
    hexes.write_text("\n".join(x.hex() for x in (public(RELEASE), good, MANIFEST, forged)))
    res = run_micropython(
        path=MP_DIR / "cose_sign1.py", heapsize="64K", paths=[MP_DIR], args=[hexes]
    )
    assert res.status == 0, res.output
    assert res.output.strip() == "OK"
