# hub/ota_image.py on real MicroPython (run by tests/firmware/test_ota_image.py with cwd = a
# flash directory holding ota.keys and, per release, r<seq>.cose and r<seq>.bin: images
# for this port's hardware class), against the emulator's esp32.Partition (its partitions
# and otadata in the same directory): a download cut short and resumed into the next
# partition, set_boot, the trial boot and its confirmation; a flipped byte refused; an
# image that never confirms rolled back by the bootloader. Prints OK.
import json

import esp32
from hub import ota, ota_files

from tests.mp.ota_world import FakeApp, FakeUplink, run_offer


class Reset(BaseException):
    pass


def _reset():
    raise Reset()


class Clock:
    t = 0

    @staticmethod
    def ticks_ms():
        return Clock.t

    @staticmethod
    def ticks_diff(a, b):
        return a - b


ota_files.reset = _reset
ota.time = Clock


def release(seq, flip=False):
    with open("r" + str(seq) + ".cose", "rb") as f:
        cose = f.read()
    with open("r" + str(seq) + ".bin", "rb") as f:
        image = f.read()
    with open("r" + str(seq) + ".etag", "rb") as f:
        etag = f.read()
    if flip:
        image = bytearray(image)
        image[len(image) // 2] ^= 1
        image = bytes(image)
    return FakeUplink(cose, image, etag), image


def boot(link=None):
    esp32._running = None
    running = esp32.Partition(esp32.Partition.RUNNING).info()[4]
    app = FakeApp(link)
    app.synced = True
    return app, ota.Updater(app), running


def otadata():
    with open("otadata.json") as f:
        return json.load(f)


def install(u, seq):
    try:
        run_offer(u, seq)
    except Reset:
        return
    raise AssertionError("no reset after installing: " + repr(u.report))


# A download cut short: the manifest and six blocks, of which one whole flash block stays.
link, image = release(2)
link.drop_after = 7
_, u, running = boot(link)
assert running == "ota_0"
run_offer(u, 2)
assert u.report[0] == "failed", u.report
link, image = release(2)
_, u, _ = boot(link)
install(u, 2)
assert [n for p, n in link.gets if p == "i"][0] == 4, link.gets
assert u.report == ["updating", 2, "1.25.0"], u.report
assert otadata()["boot"] == "ota_1" and otadata()["state"]["ota_1"] == "new"
with open("ota_1.bin", "rb") as f:
    assert f.read(len(image)) == image

# The trial boot, which confirms itself.
_, u, running = boot()
assert running == "ota_1" and u.trial
u.tick()
Clock.t += 6000
u.tick()
assert u.report == ["updated", 2, "1.25.0"], u.report
assert otadata()["state"]["ota_1"] == "valid"
with open("ota.iver") as f:
    assert f.read() == "1.25.0"  # heartbeat key 11 from now on

# A byte flipped on the way: refused, nothing set to boot.
link, _ = release(3, flip=True)
_, u, _ = boot(link)
run_offer(u, 3)
assert u.report == ["refused", 3, "integrity"], u.report
assert otadata()["boot"] == "ota_1"

# An image whose sensor task crashes: its trial runs out, the bootloader goes back.
link, _ = release(4)
_, u, _ = boot(link)
install(u, 4)
app, u, running = boot()
assert running == "ota_0" and u.trial
app.crashes = 1
u.tick()
Clock.t += 61000
try:
    u.tick()
    raise AssertionError("the trial did not end")
except Reset:
    pass
_, u, running = boot()
assert running == "ota_1", running
assert u.report == ["rolled back", 4, "1.25.0"], u.report
assert otadata()["state"]["ota_0"] == "aborted"
with open("ota.iver") as f:
    assert f.read() == "1.25.0"  # back on the image seq 2 confirmed
print("OK")
