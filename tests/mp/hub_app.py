# The hub application on the MicroPython unix port, with the emulator's stand-ins for the
# hardware (emulator/hw) and a MiniFleet over real UDP in the same process. Run in an
# empty directory: it becomes the hub's flash. argv[1]: a free UDP port.
import asyncio
import gc
import sys
import time

import emusim
from hub import app as hubapp
from hub import identity
from minifleet import MiniFleet

board = emusim.board
PORT = int(sys.argv[1])
SECRET = bytes(range(16))
SALT = b"\x01\x02\x03\x04\x05\x06\x07\x08"
SENSORS = [
    {"id": "panic1", "kind": "panic", "room": "bedroom", "flat": "3A", "pin": 4, "active": 0},
    {"id": "door1", "kind": "door", "room": "entrance", "flat": "3A", "pin": 5, "active": 1},
    {"id": "t1", "kind": "temperature", "room": "living", "flat": "3A", "i2c": 0x44},
]
CONFIG = {"v": b"\x00\x07", "hb": 1, "rd": 1, "s": SENSORS}


class Thermo:
    # An SHT3x answering 0x6666 / 0x8000 with good CRCs: 25.0 Cel, 50 %RH.
    def writeto(self, buf):
        pass

    def readfrom_into(self, buf):
        buf[:] = b"\x66\x66\x93\x80\x00\xa2"


async def until(pred, ms, what):
    t0 = time.ticks_ms()
    while not pred():
        if time.ticks_diff(time.ticks_ms(), t0) > ms:
            raise AssertionError("timed out: " + what)
        await asyncio.sleep_ms(2)


async def main():
    fields = {
        "v": 1, "hub": "mp-hub", "sid": b"\x07", "ms": SECRET, "salt": SALT,
        "host": "127.0.0.1", "port": PORT, "ssid": "portineria", "wkey": "", "ack": 100,
        "buzzer": 25,
    }  # fmt: skip
    with open("identity.cbor", "wb") as f:
        f.write(identity.dumps(fields))
    board.wlan["assoc_ms"] = 10
    board.attach_i2c(0x44, Thermo())
    for gpio, level in ((4, 1), (5, 0)):
        board.line(gpio).driven = level  # panic released, door closed
    fleet = MiniFleet(SECRET, SALT, b"\x07", PORT, CONFIG)
    fleet_task = asyncio.create_task(fleet.run())
    gc.collect()
    heap0 = gc.mem_free()
    hub = hubapp.App(identity.load())
    hub_task = asyncio.create_task(hub.main())

    # Boot: heartbeat, clock set from the reply, configuration fetched and applied.
    await until(lambda: fleet.heartbeats and board.line(4).handler, 3000, "boot")
    beat = fleet.heartbeats[0]
    assert beat[5] == "0.1.0" and beat[8] is None and beat[4] == 0, beat
    assert hub.cfg.etag == b"\x00\x07" and len(hub.cfg.sensors) == 3

    # A panic press: buzzer at once, on the fleet soon after, buzzer again on the 2.04.
    board.drive(4, 0, bounces=3)
    await until(lambda: board.line(25).out == 1, 100, "buzzer on press")
    t0 = time.ticks_ms()
    await until(lambda: fleet.events("panic"), 1000, "panic at the fleet")
    latency = time.ticks_diff(time.ticks_ms(), t0)
    seq, rec = fleet.events("panic")[0]
    assert rec["vb"] is True and rec["t"] >= fleet.now, rec
    board.drive(4, 1)
    # The buzzer ends the press signal, then sounds three times for the fleet's 2.04.
    rises, last = 0, board.line(25).out
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < 2500 and not (rises == 3 and last == 0):
        out = board.line(25).out
        rises += out > last
        last = out
        await asyncio.sleep_ms(5)
    assert rises == 3 and last == 0, rises

    # An outage at the fleet: the door event waits in the outbox and arrives once after.
    fleet.drop = 1000
    board.drive(5, 1, bounces=2)
    await asyncio.sleep_ms(600)
    assert not fleet.events("door") and hub.box.depth() >= 1
    fleet.drop = 0
    await until(lambda: fleet.events("door"), 8000, "door after the outage")
    assert fleet.events("door")[0][1]["vb"] is True

    # Wi-Fi drops for half a second: a press meanwhile waits, then goes once reconnected.
    now = board.now_ms()
    board.wlan_outages.append((now, now + 500))
    await until(lambda: not hub.wifi.isconnected(), 1500, "Wi-Fi loss seen")
    board.drive(4, 0, bounces=1)
    await asyncio.sleep_ms(100)
    assert len(fleet.events("panic")) == 1
    board.drive(4, 1)
    await until(lambda: len(fleet.events("panic")) == 2, 4000, "panic after Wi-Fi is back")

    # Readings every second: the thermometer's values in a batch.
    await until(lambda: fleet.events("temperature"), 4000, "a temperature reading")
    assert fleet.events("temperature")[0][1]["v"] == 25.0

    # A new configuration: the next heartbeat reply carries its ETag; the hub applies it.
    CONFIG["v"] = b"\x00\x08"
    CONFIG["s"] = SENSORS[:1]
    await until(lambda: hub.cfg.etag == b"\x00\x08", 3000, "the new configuration")
    assert len(hub.cfg.sensors) == 1 and "climate" not in hub.tasks
    await until(lambda: fleet.heartbeats[-1][8] == b"\x00\x08", 3000, "new ETag reported")

    # A sensor task that crashes is restarted; the hub keeps running.
    def broken(s, value):
        raise ValueError("sensor bug")

    hub.event = broken
    board.drive(4, 0, bounces=1)
    await until(lambda: hub.last_error and "crashed" in hub.last_error, 1000, "crash seen")
    await until(lambda: "wired" in hub.beats, 3000, "wired restarted")
    assert hub.stuck() is None

    # A task that stops checking in stops the watchdog's feeding, which resets the hub.
    fed = board.wdt_deadline
    await asyncio.sleep_ms(1100)
    assert board.wdt_deadline > fed  # healthy: fed every second
    hub.beats["stuck"] = time.ticks_add(time.ticks_ms(), -25000)
    await asyncio.sleep_ms(1100)
    fed = board.wdt_deadline
    await asyncio.sleep_ms(1100)
    assert board.wdt_deadline == fed and "stuck" in hub.last_error

    hub_task.cancel()
    fleet_task.cancel()
    await asyncio.sleep_ms(10)
    gc.collect()
    print("OK", latency, heap0 - gc.mem_free())


asyncio.run(main())
