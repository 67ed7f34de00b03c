"""An update of the MicroPython image itself end to end: an emulated hub (its own process,
real time, real UDP and OSCORE through the relay) is offered an image release built and
signed by tools/release.py through the stand-in fleet; its emulated chip
(emulator/hw/esp32.py, partitions beside the hub's flash/) writes it into the next OTA
partition, boots it once and keeps it only if it confirms itself.

Images are emulated ones (esp32.emulated_image: the ESP-IDF app image layout); one holding
b"crash" stands for firmware that panics soon after it starts."""

import json
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
