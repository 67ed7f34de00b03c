"""An update of the MicroPython image itself end to end: an emulated hub (its own process,
real time, real UDP and OSCORE through the relay) is offered an image release built and
signed by tools/release.py through the stand-in fleet; its emulated chip
(emulator/hw/esp32.py, partitions beside the hub's flash/) writes it into the next OTA
partition, boots it once and keeps it only if it confirms itself.

Images are emulated ones (esp32.emulated_image: the ESP-IDF app image layout); one holding
b"crash" stands for firmware that panics soon after it starts."""

import asyncio
import json
import random
import sys

from tests.e2e.test_ota import HW, key, make_world  # noqa: F401 (fixtures)
from tests.mpy import ROOT
from tools import release

sys.path.insert(0, str(ROOT / "emulator" / "hw"))

import esp32  # noqa: E402

from tests.e2e.conftest import HUB  # noqa: E402


def otadata(w):
    return json.loads((w.hub.dir / "otadata.json").read_text())


async def test_image_update_boots_the_new_image_and_confirms_it(make_world, key):  # noqa: F811
    w = await make_world()
    image = esp32.emulated_image(b"MicroPython emulated 1.25.0", size=40_000)
    cose, bundle, _ = release.build_image(key, image, "1.25.0", 4, HW, trial=(1, 60))
    w.fleet.offer(HUB, cose, bundle)
    await w.until_beat(lambda b: b.get(9) == ["updated", 4, "1.25.0"], 60, "the confirmation")
    assert len(w.resets) == 1  # into the new image, which stayed
    assert otadata(w) == {"boot": "ota_1", "state": {"ota_0": "valid", "ota_1": "valid"}}
    assert (w.hub.dir / "ota_1.bin").read_bytes()[: len(image)] == image
    blocks = (len(image) + 1023) // 1024
    assert sorted(set(w.gets("i"))) == list(range(blocks))
    assert not (w.hub.dir / "flash" / "ota.image").exists()


async def test_image_that_crashes_is_rolled_back_by_the_bootloader_and_reported(
    make_world,  # noqa: F811
    key,  # noqa: F811
):
    w = await make_world()
    image = esp32.emulated_image(b"MicroPython emulated 1.26.0 crash", size=8_000)
    cose, bundle, _ = release.build_image(key, image, "1.26.0", 5, HW, trial=(1, 60))
    w.fleet.offer(HUB, cose, bundle)
    await w.until_beat(lambda b: b.get(9) == ["rolled back", 5, "1.26.0"], 60, "the rollback")
    assert len(w.resets) == 2  # into the new image; its crash, before it marked itself valid
    assert otadata(w) == {"boot": "ota_0", "state": {"ota_0": "valid", "ota_1": "aborted"}}
    gets = len(w.fleet.ota_gets)
    n = len(w.beats())
    await w.fleet.wait_for(lambda: len(w.beats()) >= n + 2, 10)  # still offered: not retried
    assert len(w.fleet.ota_gets) == gets and len(w.resets) == 2


async def test_power_cuts_during_an_image_update_end_on_one_image_and_say_which(
    make_world,  # noqa: F811
    key,  # noqa: F811
):
    w = await make_world()
    image = esp32.emulated_image(b"MicroPython emulated 1.25.0", size=60_000)
    cose, bundle, _ = release.build_image(key, image, "1.25.0", 6, HW, trial=(1, 60))
    blocks = (len(image) + 1023) // 1024
    w.fleet.offer(HUB, cose, bundle)
    await w.fleet.wait_for(lambda: len(w.gets("i")) >= blocks // 3, 30)
    rng = random.Random(6)
    for _ in range(4):  # SIGKILL at seeded moments: download, write, set_boot, first boot
        w.hub.power_cut()
        await asyncio.sleep(0.2)
        w.hub.start()
        await asyncio.sleep(rng.uniform(0.3, 2.0))
    done = ("updated", "rolled back")
    await w.until_beat(lambda b: (b.get(9) or [None])[0] in done, 60, "the update's end")
    report = [b.get(9) for b, _ in w.beats() if b.get(9)][-1]
    d = otadata(w)
    running = d["boot"]
    assert d["state"][running] == "valid"
    held = (w.hub.dir / (running + ".bin")).read_bytes()
    if report == ["updated", 6, "1.25.0"]:
        assert running == "ota_1" and held[: len(image)] == image
    else:
        assert report == ["rolled back", 6, "1.25.0"] and running == "ota_0"
    print(f"\nafter 4 cuts: {report}; {len(w.gets('i'))} block requests for {blocks} blocks")
    # Each flash block was fetched once, but for those in flight at a cut.
    assert set(w.gets("i")) == set(range(blocks)) and len(w.gets("i")) <= blocks + 4 * 4
