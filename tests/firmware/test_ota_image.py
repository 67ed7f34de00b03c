"""An update of the MicroPython image itself (component "micropython"), in-process: hub/ota.py
and hub/ota_image.py against the emulator's esp32.Partition (two OTA app partitions and the
bootloader's rollback, emulator/hw/esp32.py) and a release from tools/release.py. A "boot"
here is what a chip does at power-on: the bootloader picks a partition, then the app starts
(hub.ota.Updater, as the app makes it)."""

import hashlib
import json
import random
import shutil
import sys
import traceback
import types
from collections import Counter

import pytest

from protocol import cbor
from tests.mpy import ROOT, run_micropython

sys.path[:0] = [str(ROOT / "firmware"), str(ROOT / "emulator" / "hw")]

import emusim  # noqa: E402
import esp32  # noqa: E402
from hub import ota, ota_files  # noqa: E402

from tests.firmware.test_ota import Reset, new_key, stand_in_hal  # noqa: E402
from tests.firmware.test_ota_powercut import PowerCut, faulty_flash  # noqa: E402, F401
from tests.mp.ota_world import FakeApp, FakeUplink, run_offer  # noqa: E402
from tools import release  # noqa: E402

OLD = esp32.emulated_image(b"MicroPython emulated 1.24.1")  # what the chip was flashed with
NEW = esp32.emulated_image(b"MicroPython emulated 1.25.0", size=20_000)  # five flash blocks
BLOCKS = (len(NEW) + 1023) // 1024
SMALL = esp32.emulated_image(b"MicroPython emulated 1.25.0", size=9_000)  # three flash blocks


@pytest.fixture(scope="module")
def key():
    return new_key()


def build(key, seq=2, image=NEW, hw=None, trial=(1, 60)):
    return release.build_image(key, image, "1.25.0", seq, hw or ota_files.hw_class(), trial)


class Chip:
    """The emulated chip's flash: the filesystem (cwd) and, beside it, the partitions."""

    def __init__(self, flash, part_dir):
        self.flash = flash
        self.part_dir = part_dir
        self.t = 0

    def otadata(self):
        return json.loads((self.part_dir / "otadata.json").read_text())

    def partition(self, label, n):
        return (self.part_dir / (label + ".bin")).read_bytes()[:n]

    def boot(self, uplink=None):
        """Power on: the bootloader, then the app's Updater; (app, updater, running)."""
        esp32._running = None
        running = esp32.Partition(esp32.Partition.RUNNING).info()[4]
        app = FakeApp(uplink)
        app.synced = True  # it reached the fleet: the heartbeat that offered the update
        return app, ota.Updater(app), running

    def tick(self, up, seconds):
        self.t += seconds * 1000
        up.tick()


@pytest.fixture
def chip(tmp_path, monkeypatch, key):
    flash = tmp_path / "flash"
    flash.mkdir()
    monkeypatch.chdir(flash)
    (flash / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    stand_in_hal(monkeypatch)
    monkeypatch.setattr(emusim, "board", types.SimpleNamespace(hub_dir=tmp_path, has_timers=False))
    c = Chip(flash, tmp_path)
    monkeypatch.setattr(ota.time, "ticks_ms", lambda: c.t, raising=False)
    monkeypatch.setattr(ota.time, "ticks_diff", lambda a, b: a - b, raising=False)
    c.boot()  # the chip as esptool left it: MicroPython in ota_0
    return c


def offer(up, cose, bundle, etag=None):
    up.app.uplink = FakeUplink(cose, bundle, etag or hashlib.sha256(bundle).digest()[:8])
    seq = cbor.loads(cbor.loads(cose).value[2])[release.M_SEQ]
    run_offer(up, seq)
    return up.app.uplink


def test_image_goes_into_the_next_partition_boots_once_and_confirms(chip, key):
    cose, bundle, m = build(key)
    assert m[release.M_COMPONENT] == "micropython" and m[release.M_FILES] == []
    _, up, running = chip.boot()
    assert running == "ota_0"
    with pytest.raises(Reset):
        offer(up, cose, bundle)
    assert up.report == ["updating", 2, "1.25.0"]
    assert chip.partition("ota_1", len(NEW)) == NEW
    assert chip.otadata() == {"boot": "ota_1", "state": {"ota_0": "valid", "ota_1": "new"}}
    assert (chip.flash / "ota.seq").read_text() == "2"
    assert not (chip.flash / "ota.bin").exists() and not (chip.flash / "ota.m").exists()

    _, up, running = chip.boot()  # the new image, once, pending its verification
    assert running == "ota_1" and up.trial and chip.otadata()["state"]["ota_1"] == "pending"
    chip.tick(up, 1)
    chip.tick(up, 5)  # synced, no task crashed, settled: it confirms itself
    assert up.report == ["updated", 2, "1.25.0"] and not up.trial
    assert chip.otadata()["state"]["ota_1"] == "valid"
    assert not (chip.flash / "ota.image").exists()
    assert (chip.flash / "ota.iver").read_text() == "1.25.0"  # heartbeat key 11 from now on
    _, up, running = chip.boot()
    assert running == "ota_1" and not up.trial and up.report == ["updated", 2, "1.25.0"]
    link = up.app.uplink = FakeUplink(cose, bundle)
    run_offer(up, 2)  # still offered: nothing fetched again
    assert link.gets == []


def test_image_that_never_confirms_is_rolled_back_by_the_bootloader(chip, key):
    cose, bundle, _ = build(key, trial=(1, 30))
    _, up, _ = chip.boot()
    with pytest.raises(Reset):
        offer(up, cose, bundle)
    app, up, running = chip.boot()
    assert running == "ota_1"
    app.crashes = 1  # a sensor task crashed on the new image: it must not confirm
    chip.tick(up, 1)
    with pytest.raises(Reset):
        chip.tick(up, 31)  # its trial ran out: hub.ota resets before marking it valid
    _, up, running = chip.boot()
    assert running == "ota_0"
    assert chip.otadata() == {"boot": "ota_0", "state": {"ota_0": "valid", "ota_1": "aborted"}}
    assert up.report == ["rolled back", 2, "1.25.0"] and not up.trial
    assert not (chip.flash / "ota.image").exists()
    assert not (chip.flash / "ota.iver").exists()  # key 11 still names the factory image
    link = offer(up, cose, bundle)  # still offered: not tried again
    assert link.gets == []


def test_power_cut_on_the_first_boot_is_a_rollback(chip, key):
    cose, bundle, _ = build(key)
    _, up, _ = chip.boot()
    with pytest.raises(Reset):
        offer(up, cose, bundle)
    chip.boot()  # the new image starts, and the power goes before it confirms
    _, up, running = chip.boot()
    assert running == "ota_0" and up.report == ["rolled back", 2, "1.25.0"]


def test_flipped_byte_is_refused_and_nothing_boots_it(chip, key):
    cose, bundle, _ = build(key)
    bad = bytearray(bundle)
    bad[len(bad) // 2] ^= 1
    _, up, _ = chip.boot()
    offer(up, cose, bytes(bad), hashlib.sha256(bundle).digest()[:8])  # flipped on the way
    assert up.report == ["refused", 2, "integrity"]
    assert chip.otadata()["boot"] == "ota_0" and chip.otadata()["state"]["ota_1"] == "empty"
    assert not (chip.flash / "ota.image").exists() and not (chip.flash / "ota.bin").exists()
    _, up, running = chip.boot()
    assert running == "ota_0" and not up.trial


def test_forged_manifest_is_refused_before_any_of_the_image_is_fetched(chip, key):
    cose, bundle, _ = build(key)
    tag = cbor.loads(cose)
    m = cbor.loads(tag.value[2])
    m[release.M_DIGEST] = hashlib.sha256(b"another image").digest()
    tag.value[2] = cbor.dumps(m)
    _, up, _ = chip.boot()
    link = offer(up, cbor.dumps(tag), bundle)
    assert up.report == ["refused", 2, "signature"]
    assert [p for p, _ in link.gets] == ["m"]


@pytest.mark.parametrize(
    ("what", "kw"),
    [
        ("hardware", {"hw": "micropython-esp32s3"}),
        ("sequence", {"seq": 1}),
        ("space", {"image": esp32.emulated_image(b"big", size=esp32._SIZE)}),
    ],
)
def test_image_refusals(chip, key, what, kw):
    (chip.flash / "ota.seq").write_text("1")
    cose, bundle, m = build(key, **kw)
    _, up, _ = chip.boot()
    link = offer(up, cose, bundle)
    assert up.report == ["refused", m[release.M_SEQ], what]
    assert [p for p, _ in link.gets] in (["m"], [])  # an old seq is refused on the offer


def test_download_resumes_at_the_first_flash_block_not_written(chip, key):
    cose, bundle, _ = build(key)
    _, up, _ = chip.boot()
    up.app.uplink = link = FakeUplink(cose, bundle, hashlib.sha256(bundle).digest()[:8])
    link.drop_after = 1 + 6  # the manifest, then six 1 KB blocks: one flash block and a half
    run_offer(up, 2)
    assert up.report[0] == "failed"
    assert cbor.loads((chip.flash / "ota.bin").read_bytes())[2] == 1
    _, up, _ = chip.boot()  # a reboot in between changes nothing
    up.app.uplink = link = FakeUplink(cose, bundle, hashlib.sha256(bundle).digest()[:8])
    with pytest.raises(Reset):
        run_offer(up, 2)
    assert [n for p, n in link.gets if p == "i"] == list(range(4, BLOCKS))
    assert chip.partition("ota_1", len(NEW)) == NEW


def test_three_hundred_power_cuts_never_leave_the_chip_without_a_bootable_image(
    tmp_path,
    monkeypatch,
    faulty_flash,  # noqa: F811
):
    """Cuts at random operations of the whole update (each write, rename and remove on the
    filesystem and in the partitions, a write torn at a random byte): download, write,
    set_boot, first boot and its confirmation, up to three per hub. After every cut the
    bootloader must find a whole image, old or new; every hub ends on the new image
    confirmed, or on the old one reporting the rollback."""
    key = new_key()
    cose, bundle, _ = build(key)
    template = tmp_path / "template"
    template.mkdir()
    (template / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    # The partitions in the flash directory (no hub_dir): the fault layer sees their writes.
    monkeypatch.setattr(emusim, "board", types.SimpleNamespace(hub_dir=None, has_timers=False))
    t = [0]
    monkeypatch.setattr(ota.time, "ticks_ms", lambda: t[0], raising=False)
    monkeypatch.setattr(ota.time, "ticks_diff", lambda a, b: a - b, raising=False)
    monkeypatch.chdir(template)
    esp32._running = None
    esp32.Partition(esp32.Partition.RUNNING)  # esptool's state: ota_0, valid
    faulty_flash.used = 0  # counts operations here, not bytes: see spend() below
    rng = random.Random(20261129)

    def spend(n):
        # One unit per operation; the unit that fails lands a random part of its bytes.
        if faulty_flash.budget < 0:
            faulty_flash.used += 1
            return n
        if faulty_flash.budget > 0:
            faulty_flash.budget -= 1
            faulty_flash.used += 1
            return n
        faulty_flash.budget = -1
        raise PowerCut(rng.randrange(n + 1))

    monkeypatch.setattr(faulty_flash, "spend", spend)

    def image(label):
        with open(label + ".bin", "rb") as f:  # the check's reads are no hub's: no fault
            data = f._f.read(len(NEW))
        return "new" if data == NEW else "old" if data[: len(OLD)] == OLD else None

    def life(confirm):
        """Boot and run until the update ended; the running partition."""
        for _ in range(30):
            esp32._running = None
            running = esp32.Partition(esp32.Partition.RUNNING).info()[4]
            assert image(running) is not None, f"{running} boots a broken image"
            app = FakeApp(FakeUplink(cose, bundle, hashlib.sha256(bundle).digest()[:8]))
            app.synced = True
            up = ota.Updater(app)
            if up.trial:
                app.crashes = 0 if confirm else 1
                up.tick()
                t[0] += 61_000
                up.tick()  # confirms, or resets at the end of the trial
            if up.report and up.report[0] in ("updated", "rolled back"):
                return running, up.report
            run_offer(up, 2)
        raise AssertionError("the update never ended")

    work = tmp_path / "work"
    total = 0
    outcomes = Counter()
    cuts_done = 0
    phases = Counter()
    for trial in range(301):
        shutil.copytree(template, work)
        monkeypatch.chdir(work)
        cuts = 0 if trial == 0 else rng.choice((1, 1, 2, 3))
        confirm = trial == 0 or rng.random() < 0.7
        faulty_flash.used = 0
        faulty_flash.budget = rng.randrange(total) if cuts else -1
        while True:
            try:
                running, report = life(confirm)
                break
            except PowerCut as cut:
                phases[_phase(cut)] += 1
                cuts_done += 1
                cuts -= 1
                faulty_flash.budget = rng.randrange(total) if cuts > 0 else -1
            except Reset:
                pass
        faulty_flash.budget = -1
        what = image(running)
        if trial == 0:
            total = faulty_flash.used
            assert (what, report) == ("new", ["updated", 2, "1.25.0"])
        else:
            assert (what, report) in (
                ("new", ["updated", 2, "1.25.0"]),
                ("old", ["rolled back", 2, "1.25.0"]),
            ), f"trial {trial}: runs {running} ({what}), reports {report}"
            assert confirm or what == "old"
            outcomes[what] += 1
        # Heartbeat key 11 names the image that runs: the new one's release once confirmed.
        iver = work / "ota.iver"
        assert (iver.read_text() if iver.exists() else None) == (
            "1.25.0" if what == "new" else None
        ), f"trial {trial}: runs {what}"
        monkeypatch.chdir(tmp_path)
        shutil.rmtree(work)
    print(f"\n300 hubs, {cuts_done} cuts over {total} operations: {dict(phases)}; {outcomes}")
    assert cuts_done >= 300 and outcomes["new"] > 50 and outcomes["old"] > 50
    assert all(phases[p] >= 20 for p in ("download", "set_boot", "first boot"))


def _phase(cut):
    names = {f.name for f in traceback.extract_tb(cut.__traceback__)}
    if names & {"_bootloader", "boot", "confirm", "mark_app_valid_cancel_rollback"}:
        return "first boot"  # the bootloader, or the new image on trial
    if "install" in names:
        return "set_boot"  # the trial's record, set_boot, the anti-rollback mark
    return "download"  # the manifest, the partition's blocks and the digest over them


def test_runs_on_micropython(tmp_path, key):
    (tmp_path / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    for seq in (2, 3, 4):
        cose, bundle, _ = build(key, seq, SMALL, "micropython-linux", trial=(1, 60))
        (tmp_path / f"r{seq}.cose").write_bytes(cose)
        (tmp_path / f"r{seq}.bin").write_bytes(bundle)
        (tmp_path / f"r{seq}.etag").write_bytes(hashlib.sha256(bundle).digest()[:8])
    out, status = run_micropython(
        path=ROOT / "tests/mp/ota_image_checks.py",
        heapsize="256K",  # the fake fleet's copy of the image, which a hub never holds
        cwd=tmp_path,
        paths=[ROOT / "emulator" / "hw"],
    )
    assert status == 0 and out.strip().endswith("OK"), out


def test_the_image_code_stays_off_the_heap_for_an_application_update(tmp_path):
    # MicroPython, the hub's .mpy build: an application offer and a trial app's Updater
    # load neither hub.ota_image nor the esp32 module.
    code = (
        "import sys\n"
        "from hub import ota\n"
        "from tests.mp.ota_world import FakeApp, FakeUplink, run_offer\n"
        "up = FakeUplink(b'', b'')\n"
        "up.drop_after = 0\n"
        "u = ota.Updater(FakeApp(up))\n"
        "run_offer(u, 2)\n"
        "assert u.report[0] == 'failed', u.report\n"
        "assert 'hub.ota_image' not in sys.modules and 'esp32' not in sys.modules\n"
        "print('OK')\n"
    )
    out, status = run_micropython(code=code, heapsize="256K", cwd=tmp_path)
    assert status == 0 and out.strip().endswith("OK"), out


def test_firmware_without_the_bootloaders_rollback_takes_no_image(chip, key, monkeypatch):
    def unsupported():
        raise OSError(-261)  # ESP_ERR_NOT_SUPPORTED: CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE off

    monkeypatch.setattr(esp32.Partition, "mark_app_valid_cancel_rollback", unsupported)
    cose, bundle, _ = build(key)
    _, up, _ = chip.boot()
    link = offer(up, cose, bundle)
    assert up.report == ["refused", 2, "hardware"]
    assert [p for p, _ in link.gets] == ["m"] and chip.otadata()["boot"] == "ota_0"


def test_a_hub_that_is_no_esp32_refuses_an_image(tmp_path, key):
    # MicroPython's unix port has no esp32 module: the image is refused, not retried.
    (tmp_path / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    cose, bundle, _ = build(key, 2, SMALL, "micropython-linux")
    (tmp_path / "r.cose").write_bytes(cose)
    (tmp_path / "r.bin").write_bytes(bundle)
    code = (
        "from hub import ota\n"
        "from tests.mp.ota_world import FakeApp, FakeUplink, run_offer\n"
        "m = open('r.cose', 'rb').read()\n"
        "u = ota.Updater(FakeApp(FakeUplink(m, open('r.bin', 'rb').read())))\n"
        "run_offer(u, 2)\n"
        "assert u.report == ['refused', 2, 'hardware'], u.report\n"
        "print('OK')\n"
    )
    out, status = run_micropython(code=code, heapsize="256K", cwd=tmp_path)
    assert status == 0 and out.strip().endswith("OK"), out
