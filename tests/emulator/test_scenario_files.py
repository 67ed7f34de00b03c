"""The example scenario files, the command that checks one, and playing events into an
in-process Sensors on a virtual clock."""

import asyncio
import json
import subprocess
import sys

import pytest

from emulator import scenario as S
from emulator.sensors import DEFAULT_WIRING, WORLD_OPS, Sensors
from emulator.sht3x_sim import SHT3x
from tests.mpy import ROOT

SLACK_MS = 200  # virtual time is exact; this covers a busy machine's scheduling

FILES = sorted((ROOT / "emulator" / "scenarios").glob("*.txt"))
DAY = 86_400_000
H = 3_600_000


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_example_file_plays_on_the_reference_hub(path):
    sc = S.load(path)
    evs = S.events(sc)
    assert evs and {e.op for e in evs} <= set(WORLD_OPS)
    days = {e.t_ms // DAY for e in evs if e.op == "motion"}
    assert days == set(range(sc.day_count()))


def test_giovanni_leaves_the_door_open_at_night_and_falls_on_sunday():
    sc = S.load(ROOT / "emulator" / "scenarios" / "giovanni_week.txt")
    evs = S.events(sc)
    doors = [(e.t_ms, e.args["opened"]) for e in evs if e.op == "door"]
    day2 = [(t % DAY, o) for t, o in doors if t // DAY == 1]
    assert day2[0] == (2 * H, True) and day2[1][1] is False  # open from 02:00 ...
    assert 9.5 * H < day2[1][0] < 9.6 * H  # ... until he shuts it going out at 09:30
    sunday = [e.t_ms % DAY for e in evs if e.op == "motion" and e.t_ms // DAY == 6]
    assert max(sunday) == 15 * H + 20 * 60_000 + 500  # the fall, then nothing
    weekday_out = [t % DAY for t, o in doors if o and t // DAY == 2]
    sunday_out = [t % DAY for t, o in doors if o and t // DAY == 6]
    assert weekday_out == [9.5 * H, 10.75 * H] and sunday_out == [10.5 * H, 12.5 * H]


def run_cli(*args):
    cmd = [sys.executable, "-m", "emulator.scenario", *map(str, args)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_checking_command_summarises_or_names_the_bad_line(tmp_path):
    ok = run_cli(FILES[0])
    assert ok.returncode == 0 and "day 1: " in ok.stdout and "motion" in ok.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("sensors: pir kitchen\n\n07:00 kitchen\n31:00 kitchen\n")
    r = run_cli(bad)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{bad}:4: '31:00' is not a time of day" in r.stderr
    good = tmp_path / "good.txt"
    good.write_text("sensors: pir kitchen\n07:00 kitchen\n")
    evs = [json.loads(ln) for ln in run_cli(good, "--events").stdout.splitlines()]
    assert {(op, args["room"]) for _, op, args in evs} == {("motion", "kitchen")}
    assert 86_400 / 90 < len(evs) < 86_400 / 30  # in the kitchen all day, as written


def test_feed_plays_a_day_into_sensors_on_the_virtual_clock(board):
    from emulator.clock import VirtualLoop

    sc = S.load(ROOT / "emulator" / "scenarios" / "maria.txt")
    evs = S.events(sc)
    board.has_timers = True
    board.attach_i2c(0x44, SHT3x())
    loop = VirtualLoop(board.clock)
    board.set_loop(loop)
    drives, adverts = [], []
    real_drive = board.drive

    def drive(gpio, level, **kw):
        drives.append((board.now_ms(), gpio, level))
        real_drive(gpio, level, **kw)

    board.drive = drive
    board.advertise = lambda addr, adv, rssi: adverts.append((board.now_ms(), addr, adv))
    sensors = Sensors(board)
    start = board.clock.now() + 1.0
    S.feed(sensors, evs, start_s=start)
    try:
        loop.run_until_complete(asyncio.sleep(start + 24 * 3600 + 60 - board.clock.now()))
    finally:
        loop.close()
    t0 = int(start * 1000)
    kitchen = DEFAULT_WIRING["motion/kitchen"]["gpio"]
    rises = [t - t0 for t, g, level in drives if g == kitchen and level == 1]
    sent = [e.t_ms for e in evs if e.op == "motion" and e.args["room"] == "kitchen"]
    assert len(rises) == len(sent) and all(
        abs(a - b) <= SLACK_MS for a, b in zip(rises, sent, strict=True)
    )
    assert len(adverts) == sum(1 for e in evs if e.op == "ble")
    last = [e.args for e in evs if e.op == "temperature"][-1]
    assert board.i2c[0x44].celsius == last["celsius"]
