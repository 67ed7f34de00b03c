# hub/ota.py on real MicroPython (run by tests/firmware/test_ota.py with cwd = a flash
# directory holding ota.keys, m.cose and bundle.bin of a micropython-linux release): a
# download cut short and resumed, verification, the install held while an emergency is
# queued, installation, boot.py's trial, the confirmation; then a forged manifest refused.
# Prints OK.
import hashlib
import os
import sys

from hub import ota, ota_files

from tests.mp.ota_world import FakeApp, FakeUplink, one_offer, run_offer


class Reset(BaseException):
    pass


def _reset():
    raise Reset()


ota_files.reset = _reset
ota_files.free = lambda: 1 << 24

with open("m.cose", "rb") as f:
    cose = f.read()
with open("bundle.bin", "rb") as f:
    bundle = f.read()
etag = hashlib.sha256(bundle).digest()[:8]
blocks = (len(bundle) + 1023) // 1024

up = FakeUplink(cose, bundle, etag)
up.drop_after = 3  # the manifest (one block) and two blocks of the bundle
u = ota.Updater(FakeApp(up))
run_offer(u, 2)
assert u.report[0] == "failed", u.report
assert os.stat("ota.bin")[6] == 2 * 1024

up = FakeUplink(cose, bundle, etag)
u = ota.Updater(FakeApp(up))
one_offer(u, 2)  # downloads the rest and verifies; the install waits for the fleet's go
assert u.report == ["downloaded", 2, "0.2.0"], u.report
u.app.box.urgent = 1  # the go, but a panic press is not delivered yet: held
one_offer(u, 2)
assert "ota.state" not in os.listdir() and u.report[0] == "downloaded", u.report
u.app.box.urgent = 0
try:
    one_offer(u, 2)
    raise AssertionError("no reset after the install")
except Reset:
    pass
assert up.gets == [("i", n) for n in range(2, blocks)], up.gets
with open("ota.state") as f:
    assert f.read() == "app0 . 3"
assert "app.mpy" in os.listdir("app0/hub")

# boot.py (its path is the first argument) takes the new copy on trial.
scope = {}
with open(sys.argv[1]) as f:
    exec(f.read(), scope)
assert scope["_app"] == "app0"
with open("ota.state") as f:
    assert f.read() == "app0 . 2"

u = ota.Updater(FakeApp(None))
assert u.trial and u.report == ["updating", 2, "0.2.0"]
u.confirm()
with open("ota.state") as f:
    assert f.read() == "app0 . ok"
assert u.report == ["updated", 2, "0.2.0"]

# A forged manifest: the payload changed after signing.
forged = bytearray(cose)
forged[len(forged) // 2] ^= 1
up = FakeUplink(bytes(forged), bundle, etag)
u = ota.Updater(FakeApp(up))
run_offer(u, 3)
assert u.report in (["refused", 3, "signature"], ["refused", 3, "manifest"]), u.report
print("OK")
