# app.boot() on the MicroPython unix port, run in an empty directory (the hub's flash) with
# the emulator's stand-ins on the path: the App gets what it needs of the identity, and
# the modules only boot needs leave the heap for good. Prints "OK" at the end.
import sys

from hub import app as hubapp
from hub import identity

SECRET = bytes(range(16))
fields = {
    "v": 1, "hub": "boot-hub", "sid": b"\x07", "ms": SECRET, "salt": b"\x01" * 8,
    "host": "127.0.0.1", "port": 5683, "ssid": "portineria", "wkey": "chiave", "buzzer": 25,
}  # fmt: skip
with open("identity.cbor", "wb") as f:
    f.write(identity.dumps(fields))
identity = None  # this script's own reference would keep the module

hub = hubapp.boot()
assert hub.hub_id == "boot-hub" and hub.i2c_pins == (22, 21), (hub.hub_id, hub.i2c_pins)
assert hub._wifi_login == ("portineria", "chiave")
for name in ("hub.identity", "protocol.hkdf"):
    assert name not in sys.modules, name + " is still loaded"
    package, _, leaf = name.partition(".")
    assert not hasattr(sys.modules[package], leaf), name + " is still on its package"

# The OSCORE context was derived before hkdf went, as a fresh one derives it.
from protocol.oscore import Context  # noqa: E402

ctx = hub.uplink.ctx
fresh = Context(SECRET, b"\x07", b"", b"\x01" * 8)
assert (ctx.sender_key, ctx.recipient_key, ctx.common_iv) == (
    fresh.sender_key,
    fresh.recipient_key,
    fresh.common_iv,
)
assert "protocol.hkdf" in sys.modules  # imported again for the new context

# A later import of the identity loads it again.
from hub import identity as again  # noqa: E402

assert again.load().hub == "boot-hub"
print("OK")
