"""`portineria doctor`: a hub's health as a checklist, gathered by a small script the hub
runs in its raw REPL (the app is stopped meanwhile; the hub is soft-rebooted into it
afterwards). Each line is green or red, and a red one says what to do.

Flash wear: LittleFS keeps no erase counters the app can read, so the check is what wears
a hub's flash out early: a filesystem nearly full (the outbox rewrites the same blocks)
and a crash log that keeps growing.
"""

import json

from tools.deploy import DeviceError, Link

RSSI_MIN = -75  # dBm: below it, datagrams start to go missing in a concrete stairwell
HEAP_MIN = 40_000  # bytes: the app's steady state needs ~150 KB of a 4 MB ESP32's heap
QUEUE_MAX = 50  # records waiting: more means the fleet has not been reached for a while
FLASH_FREE_MIN = 0.10

_HAS_APP = "try:\n from hub import hal\n print(True)\nexcept ImportError:\n print(False)"

# Runs on the hub (MicroPython or the emulator). Prints one repr'd dict.
_GATHER = """
import gc, os, time, socket
r = {}
def _try(key, fn):
    try:
        r[key] = fn()
    except Exception as e:
        r[key] = 'error: ' + repr(e)
from hub import hal
try:
    from hub import identity
    ident = identity.load()
except Exception as e:
    ident = None
    r['identity'] = repr(e)
def _wifi():
    import network
    w = network.WLAN(network.STA_IF)
    w.active(True)
    if not w.isconnected() and ident:
        w.connect(ident.ssid, ident.wifi_key)
        t = time.ticks_ms()
        while not w.isconnected() and time.ticks_diff(time.ticks_ms(), t) < 10000:
            time.sleep_ms(100)
    return w.status('rssi') if w.isconnected() else None
_try('rssi', _wifi)
def _fleet():
    a = socket.getaddrinfo(ident.host, ident.port)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    try:
        for i in range(3):
            s.sendto(bytes([0x40, 0, 0x7A, i]), a)  # CoAP ping: an empty CON
            try:
                d = s.recv(16)
            except OSError:
                continue
            if len(d) >= 4 and d[0] >> 4 == 7 and d[3] == i:  # RST, same message id
                return True
        return False
    finally:
        s.close()
_try('fleet', _fleet if ident else (lambda: None))
r['clock'] = hal.wall_time() if hal.wall_valid() else None
def _sensors():
    from hub import config
    cfg = config.load()
    want = sorted(set(s['i2c'] for s in cfg.where('i2c')))
    seen = hal.i2c(ident.scl, ident.sda).scan() if want else []
    return [len(cfg.sensors), [a for a in want if a not in seen]]
_try('sensors', _sensors)
gc.collect()
r['heap'] = gc.mem_free()
def _queue():
    from hub.outbox import Outbox
    return Outbox('outbox').depth()
_try('queue', _queue)
def _flash():
    st = os.statvfs('/')
    try:
        crash = os.stat('crash.log')[6]
    except OSError:
        crash = 0
    return [st[0] * st[3], st[0] * st[2], crash]
_try('flash', _flash)
print(repr(r))
"""


def examine(port, baud=115200):
    """The checklist for the hub on `port`: a list of {name, ok, value, advice}."""
    link = Link(port, baud)
    try:
        if not link.value(_HAS_APP):
            raise DeviceError("no Portineria application on the hub: run `portineria deploy` first")
        facts = link.value(_GATHER)
    finally:
        link.close_into_app()
    return judge(facts)


def _check(name, ok, value, advice):
    return {"name": name, "ok": bool(ok), "value": value, "advice": None if ok else advice}


def judge(facts):
    """Turn what the hub reported into checks."""
    checks = []
    if "identity" in facts:
        checks.append(
            _check("identity", False, facts["identity"], "provision the hub and deploy again")
        )
    rssi = facts.get("rssi")
    good = isinstance(rssi, int) and rssi >= RSSI_MIN
    checks.append(
        _check(
            "Wi-Fi signal",
            good,
            f"{rssi} dBm" if isinstance(rssi, int) else "not connected",
            "move the hub nearer the access point, or check the Wi-Fi name and key"
            if isinstance(rssi, int) or rssi is None
            else str(rssi),
        )
    )
    fleet = facts.get("fleet")
    checks.append(
        _check(
            "fleet reachable",
            fleet is True,
            "answers" if fleet is True else "no answer",
            "check the flat's internet link and that the fleet's CoAP port is open",
        )
    )
    clock = facts.get("clock")
    checks.append(
        _check(
            "clock",
            isinstance(clock, int),
            "set" if isinstance(clock, int) else "not set",
            "the fleet sets it: once the hub reaches the fleet this turns green",
        )
    )
    sensors = facts.get("sensors")
    if isinstance(sensors, list):
        count, missing = sensors
        value = f"{count} configured" + (
            f", I2C {', '.join(hex(a) for a in missing)} silent" if missing else ""
        )
        checks.append(
            _check("sensors answering", not missing, value, "check the I2C sensor's cable")
        )
    else:
        checks.append(_check("sensors answering", False, str(sensors), "deploy the app again"))
    heap = facts.get("heap", 0)
    checks.append(
        _check(
            "free heap",
            heap >= HEAP_MIN,
            f"{heap // 1024} KB",
            "too little memory: deploy the compiled (.mpy) app and report this hub",
        )
    )
    queue = facts.get("queue")
    checks.append(
        _check(
            "queue depth",
            isinstance(queue, int) and queue <= QUEUE_MAX,
            f"{queue} waiting" if isinstance(queue, int) else str(queue),
            "messages are piling up: fix the fleet link, the hub sends them by itself",
        )
    )
    flash = facts.get("flash")
    if isinstance(flash, list):
        free, total, crash = flash
        ok = total and free / total >= FLASH_FREE_MIN and crash < 4096
        value = f"{free // 1024} of {total // 1024} KB free, crash log {crash} bytes"
    else:
        ok, value = False, str(flash)
    checks.append(
        _check(
            "flash wear",
            ok,
            value,
            "read crash.log (mpremote fs cat :crash.log), then deploy again to clean up",
        )
    )
    return checks


def show(checks, as_json):
    if as_json:
        print(json.dumps(checks))
        return
    from rich.console import Console

    console = Console(highlight=False)
    for c in checks:
        mark, colour = ("✔", "green") if c["ok"] else ("✘", "red")
        text = f"[{colour}]{mark} {c['name']}: {c['value']}[/{colour}]"
        if c["advice"]:
            text += f" — {c['advice']}"
        console.print(text)
