# hub.app on MicroPython (the hub's .mpy build): heartbeat key 11, the MicroPython image's
# version, and the updater loaded at boot while an image is on trial. Run in an empty
# directory: it is the hub's flash.
import asyncio
import sys

from hub import app

from protocol import cbor, codes


class Reply:
    code = codes.CHANGED
    payload = cbor.dumps({})


class Clock:
    def now(self):
        return 1_700_000_000_000


class Uplink:
    clock = Clock()

    def __init__(self):
        self.beats = []

    async def request(self, method, path, payload=None, *args, **kw):
        self.beats.append(cbor.loads(payload))
        return Reply()


class Box:
    def depth(self):
        return 0

    def urgent_depth(self):
        return 0


class Wifi:
    def rssi(self):
        return -60


class Cfg:
    etag = None


class Hub(app.App):
    def __init__(self):  # only what heartbeat() uses
        self.uplink, self.wifi, self.box, self.cfg = Uplink(), Wifi(), Box(), Cfg()
        self.last_error, self.reset_cause, self.ota, self.beats = None, "power-on", None, {}
        self._in_uplink = []


h = Hub()
asyncio.run(h.heartbeat())
# The factory image: the firmware's own release number, as os.uname().release on an ESP32.
got = h.uplink.beats[0][11]
assert tuple(int(n) for n in got.split(".")) == sys.implementation.version[:3], got
with open("ota.iver", "w") as f:
    f.write("1.25.0")  # hub.ota_image confirmed that image release
asyncio.run(h.heartbeat())
assert h.uplink.beats[1][11] == "1.25.0", h.uplink.beats[1]

assert not app._ota_pending()
with open("ota.image", "wb") as f:
    f.write(cbor.dumps([2, "1.25.0", "ota_1", "ota_0", 60]))
assert app._ota_pending()  # the new image's trial starts at boot
print("OK")
