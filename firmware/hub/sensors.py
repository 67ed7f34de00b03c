"""Sensor tasks: each reads one family of sensors from the configuration and hands what it
sees to the app (`app.event(sensor, value)` for a change, `app.tele.reading(sensor_id,
kind, value)` for a measurement). A task checks in with `app.beat(name)` at least once a
second while idle; the app restarts one that crashes, and cancels all of them when the
configuration changes.

    wired(app, sensors)    # PIR, door, panic, smoke/gas/water/bed contacts on GPIOs
    climate(app, sensors)  # SHT3x on I2C, measured every readings interval
    ble(app, sensors)      # BTHome v2 advertisements from configured BLE sensors
"""

import asyncio

from hub import hal
from hub.sht3x import SHT3x, SHT3xError

try:
    from micropython import const
except ImportError:

    def _identity(x):
        return x

    const = _identity

_IDLE_MS = const(1000)
_DEBOUNCE_MS = const(30)
_BTHOME_UUID = const(0xFCD2)
_DRIVEN = ("motion",)  # a PIR drives its output; contacts need the pull-up
_ONLY_ACTIVE = ("motion", "panic", "fall")  # the end of these is not news


async def _idle(app, name, waiter):
    # Wait for waiter (a coroutine) at most a second, then check in either way.
    try:
        await asyncio.wait_for_ms(waiter, _IDLE_MS)
    except asyncio.TimeoutError:  # noqa: UP041 (MicroPython has no builtin one)
        pass
    app.beat(name)


async def wired(app, sensors):
    """Debounced GPIO inputs; one event per change of a sensor's state."""
    import machine

    specs = []
    for s in sensors:
        pull = None if s["kind"] in _DRIVEN else machine.Pin.PULL_UP
        specs.append((s["pin"], pull))
    inputs = hal.Inputs(specs, debounce_ms=_DEBOUNCE_MS)
    try:
        while True:
            await _idle(app, "wired", inputs.wait())
            ev = inputs.get()
            while ev is not None:
                s = sensors[ev[0]]
                active = ev[1] == s.get("active", 1)
                if active or s["kind"] not in _ONLY_ACTIVE:
                    app.event(s, active)
                ev = inputs.get()
    finally:
        for pin in inputs.pins:
            pin.irq(None)  # a new configuration may rewire these pins


async def climate(app, sensors):
    """Every readings interval: each I2C thermometer measured once, its values queued."""
    bus = hal.i2c(*app.i2c_pins)
    while True:
        await app.nap("climate", app.cfg.rd)
        done = {}
        for s in sensors:
            addr = s["i2c"]
            if addr not in done:
                try:
                    done[addr] = await SHT3x(bus, addr).measure()
                except SHT3xError as e:
                    done[addr] = None
                    app.error(str(e))
            values = done[addr]
            if values is not None and s["kind"] in ("temperature", "humidity"):
                v = values[0] if s["kind"] == "temperature" else values[1]
                app.tele.reading(s["id"], s["kind"], round(v, 2))
        app.tele.flush()


async def ble(app, sensors):
    """Passive scan; advertisements from configured sensors become events and readings."""
    from hub import bthome  # only a hub with BLE sensors gives it heap room

    rx = bthome.Receiver()
    by_mac = {}
    for s in sensors:
        rx.add(s["ble"], s.get("key"))
        by_mac[bytes(s["ble"])] = s
    scanner = hal.Scanner(uuid16=_BTHOME_UUID)
    scanner.start()
    try:
        while True:
            await _idle(app, "ble", scanner.flag.wait())
            if not scanner.scanning:
                scanner.start()  # the stack ended the scan (e.g. after a radio reset)
            res = scanner.get()
            while res is not None:
                mac, _, adv = res
                readings = rx.feed(mac, adv)
                # A sensor that names its own MAC in the advertisement (behind a random
                # address) is not matched here: configure it by the address it sends from.
                s = by_mac.get(bytes(mac))
                if readings and s is not None:
                    _dispatch(app, s, readings, bthome)
                res = scanner.get()
            if rx.last_error is not None:
                app.error("BLE " + rx.last_error[1])
                rx.last_error = None
    finally:
        scanner.stop()


def _wanted(b, kind):
    # The BTHome objects that carry a kind's value.
    if kind in ("door", "window"):
        return (b.DOOR if kind == "door" else b.WINDOW, b.OPENING)
    return {
        "motion": (b.MOTION, b.OCCUPANCY),
        "smoke": (b.SMOKE,),
        "gas": (b.GAS,),
        "water": (b.MOISTURE,),
        "temperature": (b.TEMPERATURE, b.TEMPERATURE_01),
        "humidity": (b.HUMIDITY,),
    }.get(kind, ())


def _dispatch(app, s, readings, b):
    kind = s["kind"]
    if kind in ("panic", "button"):
        names = {b.PRESS: "press", b.DOUBLE_PRESS: "double_press", b.LONG_PRESS: "long_press"}
        for obj, value in readings:
            if obj == b.BUTTON and value != b.NONE:
                if kind == "panic":
                    app.event(s, True)
                else:
                    app.event(s, names.get(value, "press"))
    wanted = _wanted(b, kind)
    for obj, value in readings:
        if obj in wanted:
            if kind in ("temperature", "humidity"):
                app.tele.reading(s["id"], kind, value)
            else:
                app.event(s, bool(value))
        elif obj == b.BATTERY:
            app.tele.reading(s["id"], "battery", value)
