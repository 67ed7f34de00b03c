"""A scenario drives a whole emulated hub process for a virtual day: what the hub's own
hal, BTHome receiver and SHT3x driver see matches what the scenario said happened, at
the right instants of the hub's clock."""

import time

import pytest

from emulator import scenario as S
from emulator.sensors import DEFAULT_WIRING
from emulator.supervisor import Hub, provision
from tests.mpy import ROOT

SLACK_MS = 200  # virtual time is exact; this covers a busy machine's scheduling

START_S = 5.0  # 00:00 of the scenario's day 1 on the hub's clock
H = 3_600_000

# The hub app is not written yet: this main.py logs what the hub's hal sees, as the app's
# input tasks would. It waits for the first event without timers, so its clock cannot run
# ahead of the scenario before it arrives.
LOGGER = """
import asyncio, time
from hub import hal, sht3x
from hub.bthome import Receiver

GPIOS = %r
KEYS = %r
END_MS = %d

first = asyncio.Event()  # the scenario has arrived: from now on time may run


def log(*a):
    print(*a)

async def inputs_task(inputs):
    while True:
        await inputs.wait()
        ev = inputs.get()
        while ev is not None:
            log("in", GPIOS[ev[0]], ev[1], ev[2])
            ev = inputs.get()
        first.set()

async def ble_task(scanner, rx):
    while True:
        await scanner.flag.wait()
        r = scanner.get()
        while r is not None:
            got = rx.feed(r[0], r[2])
            if got is not None:
                log("ble", r[0].hex(), time.ticks_ms(), *[str(k) + "=" + str(v) for k, v in got])
                first.set()
            r = scanner.get()

async def temp_task(sensor):
    while True:
        c, rh = await sensor.measure()
        log("temp", time.ticks_ms(), c)
        await asyncio.sleep(600)

async def main():
    inputs = hal.Inputs([(g, None) for g in GPIOS])
    scanner = hal.Scanner(uuid16=0xFCD2)
    rx = Receiver()
    for mac, key in KEYS:
        rx.add(bytes.fromhex(mac), bytes.fromhex(key) if key else None)
    scanner.start()
    log("ready")
    tasks = [asyncio.create_task(inputs_task(inputs)), asyncio.create_task(ble_task(scanner, rx))]
    await first.wait()
    tasks.append(asyncio.create_task(temp_task(sht3x.SHT3x(hal.i2c(22, 21)))))
    await asyncio.sleep_ms(END_MS - time.ticks_ms())
    log("done", rx.rejected)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    sc = S.load(ROOT / "emulator" / "scenarios" / "maria.txt")
    evs = S.events(sc)
    gpios = sorted({w["gpio"] for w in DEFAULT_WIRING.values()})
    keys = [(s.addr, s.key.hex() if s.key else None) for s in sc.sensors if s.addr]
    end_ms = int((START_S + 24 * 3600 + 60) * 1000)
    fw = tmp_path_factory.mktemp("fw")
    (fw / "hub").mkdir()
    for name in ("__init__.py", "hal.py", "bthome.py", "sht3x.py"):
        (fw / "hub" / name).write_text((ROOT / "firmware" / "hub" / name).read_text())
    (fw / "main.py").write_text(LOGGER % (gpios, keys, end_ms))
    hub = Hub(provision(tmp_path_factory.mktemp("hub"), firmware=fw, i2c={"0x44": "sht3x"}))
    t0 = time.monotonic()
    hub.start()
    S.send(hub, evs, START_S)
    try:
        code = hub.wait(60)
    finally:
        hub.power_cut()
    real_s = time.monotonic() - t0
    assert code == 0, hub.console()[-3000:]
    lines = [ln.split() for ln in hub.console().splitlines()]
    return sc, evs, lines, real_s


def hub_ms(t_ms):
    return int(START_S * 1000) + t_ms


def test_the_day_runs_in_a_few_seconds_and_the_hub_rejected_nothing(day):
    _, _, lines, real_s = day
    assert real_s < 30
    assert ["done", "0"] in lines


def test_every_pir_pulse_and_contact_reached_the_hub_on_time(day):
    _, evs, lines, _ = day
    seen = [
        (int(g), int(level), int(t)) for k, g, level, t in (ln for ln in lines if ln[0] == "in")
    ]
    for room in ("kitchen", "bathroom", "bedroom", "living"):
        gpio = DEFAULT_WIRING["motion/" + room]["gpio"]
        sent = [hub_ms(e.t_ms) for e in evs if e.op == "motion" and e.args["room"] == room]
        rises = [t for g, level, t in seen if g == gpio and level == 1]
        assert len(rises) == len(sent) > 10, room
        assert all(abs(a - b) <= SLACK_MS for a, b in zip(rises, sent, strict=True))
    door = [(t, level) for g, level, t in seen if g == DEFAULT_WIRING["door/entrance"]["gpio"]]
    sent = [(hub_ms(e.t_ms), int(e.args["opened"])) for e in evs if e.op == "door"]
    assert [lv for _, lv in door] == [1, 0, 1, 0]
    assert all(abs(a[0] - b[0]) <= SLACK_MS for a, b in zip(door, sent, strict=True))
    panic = [t for g, level, t in seen if g == DEFAULT_WIRING["panic"]["gpio"] and level == 0]
    assert len(panic) == 1 and 0 <= panic[0] - hub_ms(9 * H) < 10_000
    bed = [level for g, level, t in seen if g == DEFAULT_WIRING["bed/bedroom"]["gpio"]]
    assert bed == [0, 1, 0, 1, 0]  # the mat pulls low when occupied: on at 00:00, ...
    smoke = [(level, t) for g, level, t in seen if g == DEFAULT_WIRING["smoke"]["gpio"]]
    assert [lv for lv, _ in smoke] == [0, 1] and abs(
        smoke[0][1] - hub_ms(13 * H + 5 * 60_000)
    ) <= SLACK_MS


def test_the_hub_thermometer_and_ble_climate_feel_the_heat_wave(day):
    _, _, lines, _ = day
    temps = [(int(t) - hub_ms(0), float(c)) for _, t, c in (ln for ln in lines if ln[0] == "temp")]
    assert len(temps) >= 24 * 6
    hot = [t for t, c in temps if c > 30]
    assert hot and 12 * H < min(hot) and max(hot) < 18 * H
    climate = [
        (int(ln[2]) - hub_ms(0), dict(kv.split("=") for kv in ln[3:]))
        for ln in lines
        if ln[0] == "ble" and ln[1] == "a4c138000002"
    ]
    assert len(climate) == 24 * 6  # the repeat of each advertisement was dropped
    ble_hot = [t for t, r in climate if float(r["2"]) > 30]  # object 0x02: temperature
    assert ble_hot and 12 * H < min(ble_hot) and max(ble_hot) < 18 * H
    pendant = [ln for ln in lines if ln[0] == "ble" and ln[1] == "a4c138000001"]
    assert len(pendant) == 24  # encrypted heartbeats, all verified
