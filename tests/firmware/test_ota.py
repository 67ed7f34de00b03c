"""hub/ota.py against a release from tools/release.py, in-process: what it installs, what
it refuses (and reports), how it resumes, and how a trial copy confirms or rolls back."""

import hashlib
import sys

import pytest

from protocol import cbor
from tests.mpy import ROOT, run_micropython

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`

from hub import ota, ota_files  # noqa: E402

from tests.mp.ota_world import FakeApp, FakeUplink, run_offer  # noqa: E402
from tools import release  # noqa: E402

BOOT = ROOT / "firmware" / "boot.py"


class Reset(BaseException):
    """hal.reset(): the hub restarts, nothing after it runs."""


def new_key():
    return release._ed25519().Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def key():
    return new_key()


@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    """A small application tree (hub/ and protocol/), so each test builds fast."""
    d = tmp_path_factory.mktemp("app")
    (d / "fw" / "hub").mkdir(parents=True)
    (d / "fw" / "hub" / "__init__.py").write_text("")
    (d / "fw" / "hub" / "version.py").write_text('VERSION = "0.1.0"\n')
    (d / "fw" / "hub" / "app.py").write_text("X = %r\n" % ("hub " * 1500))  # a few blocks
    (d / "fw" / "main.py").write_text("# stays at the root\n")
    (d / "proto").mkdir()
    (d / "proto" / "cbor.py").write_text("Y = 1\n")
    return d


def build(key, small_app, seq=2, version="0.2.0", hw=None, **kw):
    return release.build(
        key, version, seq, hw or ota_files.hw_class(), small_app / "fw", small_app / "proto", **kw
    )


@pytest.fixture
def flash(tmp_path, monkeypatch, key):
    """A hub's flash root as cwd: the app deployed by cable, and the release key trusted."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    stand_in_hal(monkeypatch)
    return tmp_path


def stand_in_hal(monkeypatch):
    """hub.hal's two calls in an update: plenty of free flash, and a reset that raises."""
    monkeypatch.setattr(ota_files, "free", lambda: 1 << 24)

    def reset():
        raise Reset()

    monkeypatch.setattr(ota_files, "reset", reset)


@pytest.fixture
def now(monkeypatch):
    """time.ticks_ms() as a list's first item, set by the test."""
    t = [0]
    monkeypatch.setattr(ota.time, "ticks_ms", lambda: t[0], raising=False)
    monkeypatch.setattr(ota.time, "ticks_diff", lambda a, b: a - b, raising=False)
    return t


def hub(cose, bundle, etag=None):
    up = FakeUplink(cose, bundle, etag or hashlib.sha256(bundle).digest()[:8])
    app = FakeApp(up)
    return app, ota.Updater(app)


def install(cose, bundle):
    app, up = hub(cose, bundle)
    with pytest.raises(Reset):
        run_offer(up, cbor.loads(cbor.loads(cose).value[2])[2])
    return app, up


def boot(flash):
    scope = {}
    exec(compile(BOOT.read_text(), str(BOOT), "exec"), scope)
    return scope["_app"]


def test_installs_into_the_inactive_slot_and_arms_a_trial(flash, key, small_app):
    cose, bundle, m = build(key, small_app, trial=(2, 60))
    app, up = install(cose, bundle)
    assert (flash / "ota.state").read_text() == "app0 . 2"
    assert (flash / "ota.seq").read_text() == "2"
    assert up.report == ["updating", 2, "0.2.0"]
    for path, _, digest in m[release.M_FILES]:
        assert hashlib.sha256((flash / "app0" / path).read_bytes()).digest() == digest
    assert (flash / "app0" / "hub" / "version.py").read_text().endswith("VERSION = '0.2.0'\n")
    assert not (flash / "app0" / "main.py").exists()
    assert not (flash / "ota.bin").exists() and not (flash / "ota.m").exists()
    # The key list follows the copy, and the manifest stays with it.
    assert (flash / "app0" / "ota.keys").read_bytes() == (flash / "ota.keys").read_bytes()
    assert ota_files.release("app0")[release.M_SEQ] == 2
    m_blocks, i_blocks = (len(cose) + 1023) // 1024, (len(bundle) + 1023) // 1024
    assert app.uplink.gets == [("m", n) for n in range(m_blocks)] + [
        ("i", n) for n in range(i_blocks)
    ]


def test_trial_confirms_when_synced_and_healthy_then_next_goes_to_app1(flash, key, small_app):
    install(*build(key, small_app)[:2])
    assert boot(flash) == "app0"
    app, up = hub(*build(key, small_app, seq=3, version="0.3.0")[:2])
    assert up.trial and up.slot == "app0"
    up.offer(3)
    assert up.task is None  # a copy on trial proves itself before anything else
    up.confirm()
    assert (flash / "ota.state").read_text() == "app0 . ok"
    assert up.report == ["updated", 2, "0.2.0"]
    cose, bundle, _ = build(key, small_app, seq=3, version="0.3.0")
    install(cose, bundle)
    assert (flash / "ota.state").read_text() == "app1 app0 3"


def test_tick_resets_a_trial_that_never_confirms(flash, key, small_app, now):
    install(*build(key, small_app, trial=(1, 5))[:2])
    boot(flash)
    app, up = hub(b"", b"")
    app.synced = True
    app.crashes = 1  # a sensor task crashed: the copy is not healthy
    up.tick()
    now[0] = 5000
    up.tick()  # not yet past its 5 s
    now[0] = 5001
    with pytest.raises(Reset):
        up.tick()
    assert (flash / "ota.state").read_text() == "app0 . 0"
    assert boot(flash) == "."  # boot.py gives up on it
    app, up = hub(b"", b"")
    assert up.report == ["rolled back", 2, "0.2.0"]
    assert not (flash / "ota.rollback").exists()
    run_offer(up, 2)
    assert app.uplink.gets == []  # a release that rolled back is not tried again


def test_tick_confirms_a_healthy_trial(flash, key, small_app, now):
    install(*build(key, small_app)[:2])
    boot(flash)
    app, up = hub(b"", b"")
    up.tick()
    now[0] = 6000
    up.tick()
    assert up.trial  # the fleet has not answered yet
    app.synced = True
    up.tick()
    assert not up.trial and (flash / "ota.state").read_text() == "app0 . ok"


def refused(flash, app, up, seq, reason):
    run_offer(up, seq)
    assert up.report == ["refused", seq, reason]
    assert cbor.loads((flash / "ota.report").read_bytes()) == up.report
    assert not (flash / "ota.state").exists() and not (flash / "app0").exists()
    assert not (flash / "ota.bin").exists()
    assert ("i", 0) not in app.uplink.gets or reason == "integrity"
    gets = len(app.uplink.gets)
    run_offer(up, seq)  # offered again: not fetched again
    assert len(app.uplink.gets) == gets


def test_forged_manifest_is_refused(flash, key, small_app):
    cose, bundle, _ = build(key, small_app)
    tag = cbor.loads(cose)
    m = cbor.loads(tag.value[2])
    m[release.M_DIGEST] = hashlib.sha256(b"evil").digest()
    tag.value[2] = cbor.dumps(m)
    refused(flash, *hub(cbor.dumps(tag), bundle), 2, "signature")


def test_valid_signature_from_an_untrusted_key_is_refused(flash, small_app):
    refused(flash, *hub(*build(new_key(), small_app)[:2]), 2, "signature")


def test_older_sequence_is_refused_without_a_download(flash, key, small_app):
    (flash / "ota.seq").write_text("5")
    app, up = hub(*build(key, small_app, seq=4)[:2])
    refused(flash, app, up, 4, "sequence")
    assert app.uplink.gets == []


def test_manifest_older_than_the_offer_is_refused(flash, key, small_app):
    (flash / "ota.seq").write_text("5")
    refused(flash, *hub(*build(key, small_app, seq=4)[:2]), 6, "manifest")


def test_foreign_hardware_class_is_refused(flash, key, small_app):
    refused(flash, *hub(*build(key, small_app, hw="cpython-esp32")[:2]), 2, "hardware")


def test_bundle_larger_than_free_flash_is_refused(flash, key, small_app, monkeypatch):
    monkeypatch.setattr(ota_files, "free", lambda: 20_000)
    refused(flash, *hub(*build(key, small_app)[:2]), 2, "space")


def test_bundle_with_one_flipped_byte_is_refused(flash, key, small_app):
    cose, bundle, _ = build(key, small_app)
    bad = bytearray(bundle)
    bad[len(bad) // 2] ^= 1
    etag = hashlib.sha256(bundle).digest()[:8]  # the fleet names the right one
    refused(flash, *hub(cose, bytes(bad), etag), 2, "integrity")


def test_resume_fetches_only_missing_blocks(flash, key, small_app):
    cose, bundle, _ = build(key, small_app)
    app, up = hub(cose, bundle)
    app.uplink.drop_after = (len(cose) + 1023) // 1024 + 2  # m, i0, i1, then the link goes
    run_offer(up, 2)
    assert up.report[0] == "failed" and (flash / "ota.bin").stat().st_size == 2048
    # A reboot: a new Updater from what is on flash, the link back.
    app, up = hub(cose, bundle)
    with pytest.raises(Reset):
        run_offer(up, 2)
    blocks = (len(bundle) + 1023) // 1024
    assert app.uplink.gets == [("i", n) for n in range(2, blocks)]  # no m, no i0/i1 again


def test_torn_last_block_is_fetched_again(flash, key, small_app):
    cose, bundle, _ = build(key, small_app)
    app, up = hub(cose, bundle)
    app.uplink.drop_after = (len(cose) + 1023) // 1024 + 1
    run_offer(up, 2)
    with open("ota.bin", "ab") as f:
        f.write(b"\xff" * 100)  # a block cut short by the power
    app, up = hub(cose, bundle)
    with pytest.raises(Reset):
        run_offer(up, 2)
    assert app.uplink.gets[0] == ("i", 1)
    assert (flash / "app0/hub/app.py").read_bytes() == (small_app / "fw/hub/app.py").read_bytes()


def test_key_rotation_is_a_signed_release(flash, key, small_app):
    newer = new_key()
    cose, bundle, _ = build(key, small_app, keys=[release.public_bytes(newer)])
    install(cose, bundle)
    boot(flash)
    ota.Updater(FakeApp(None)).confirm()
    # Now only the new key opens a manifest; the old one is refused.
    app, up = hub(*build(key, small_app, seq=3)[:2])
    run_offer(up, 3)
    assert up.report == ["refused", 3, "signature"]
    install(*build(newer, small_app, seq=4)[:2])
    assert (flash / "ota.state").read_text() == "app1 app0 3"
    assert (flash / "app1" / "ota.keys").read_bytes() == (flash / "app0" / "ota.keys").read_bytes()


def test_runs_on_micropython(tmp_path, key, small_app):
    cose, bundle, _ = build(key, small_app, hw="micropython-linux")
    (tmp_path / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    (tmp_path / "m.cose").write_bytes(cose)
    (tmp_path / "bundle.bin").write_bytes(bundle)
    # The heap also holds the fake fleet's copy of the release, which a hub never does.
    out, status = run_micropython(
        path=ROOT / "tests/mp/ota_checks.py",
        heapsize="256K",
        cwd=tmp_path,
        paths=[ROOT / "firmware"],
        args=[BOOT],
    )
    assert status == 0 and out.strip().endswith("OK"), out


def test_a_full_flash_does_not_stop_the_app_reporting(flash, key, small_app, monkeypatch):
    install(*build(key, small_app, trial=(1, 60))[:2])
    boot(flash)
    boot(flash)  # the trial ran out: boot.py rolled back and left ota.rollback

    def full(path, data):
        raise OSError(28, "ENOSPC")

    monkeypatch.setattr(ota_files, "write", full)
    up = ota.Updater(FakeApp(None))  # the app starts all the same
    assert up.report == ["rolled back", 2, "0.2.0"]  # and says so in its heartbeats
