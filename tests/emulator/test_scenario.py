"""Scenario files: parsing (good, forgiving, wrong with line numbers) and the events they
produce."""

import sys

import pytest

from emulator import scenario as S
from tests.mpy import ROOT

MARIA = ROOT / "emulator" / "scenarios" / "maria.txt"
H = 3_600_000  # ms in an hour
M = 60_000


def at(hhmm):
    h, m = hhmm.split(":")
    return int(h) * H + int(m) * M


@pytest.fixture(scope="module")
def maria():
    sc = S.load(MARIA)
    return sc, S.events(sc)


def test_maria_parses_to_her_day(maria):
    sc, _ = maria
    assert sc.resident == "Maria Bianchi, flat 3B"
    kinds = sorted((s.kind, s.room, s.addr is not None) for s in sc.sensors)
    assert ("pir", "kitchen", False) in kinds and ("bed", "bedroom", False) in kinds
    assert ("pendant", "living", True) in kinds and ("temp", "bedroom", True) in kinds
    pendant = sc.sensor("pendant")
    assert pendant.addr == "a4c138000001" and pendant.key.hex().startswith("231d39c1")
    acts = [(a.start, a.end, a.place, a.room) for a in sc.routine.activities]
    assert acts[0] == (450, None, "room", "bedroom")  # 07:30 wakes in bedroom
    assert (460, 475, "room", "bathroom") in acts  # 07:40-07:55 ... the asides dropped
    assert (600, 690, "out", None) in acts
    assert (780, 830, "bed", "bedroom") in acts  # a nap is time in bed
    assert acts[-1] == (1350, None, "bed", "bedroom")
    inc = {i.kind: (i.start, i.end, i.room, i.value) for i in sc.routine.incidents}
    assert inc == {
        "panic": (540, None, None, None),
        "smoke": (785, 795, "kitchen", None),
        "heat": (720, 1080, None, 31.0),
    }


FORGIVING = """
Resident: Anna
SENSORS: motion Bedroom, pir kitchen, pir bathroom, PIR living, door, bed, panic,
   smoke kitchen, thermometer,
   ble button "A4:C1:38:00:00:09"
7.30 Wakes up
07:45 Kitchen (breakfast)
8h10 to 8h25 shower
10:00 - 11:30 goes out shopping
panic at 09:00
fall in bathroom at 14:10
no activity after 15:00
02:00 front door opened
heat wave 31 C from 12:00 to 18:00
smoke in kitchen at 13:05 for 20 min
22:30 bed   # good night
"""


def test_forgiving_spellings_of_times_places_and_incidents():
    sc = S.parse(FORGIVING)
    acts = [(a.start, a.end, a.place, a.room) for a in sc.routine.activities]
    assert acts == [
        (450, None, "room", "bedroom"),
        (465, None, "room", "kitchen"),
        (490, 505, "room", "bathroom"),
        (600, 690, "out", None),
        (1350, None, "bed", "bedroom"),
    ]
    inc = [(i.kind, i.start, i.end, i.room, i.value) for i in sc.routine.incidents]
    assert inc == [
        ("panic", 540, None, None, None),
        ("fall", 850, None, "bathroom", None),
        ("still", 900, None, None, None),
        ("door", 120, None, "entrance", True),
        ("heat", 720, 1080, None, 31.0),
        ("smoke", 785, 805, "kitchen", None),
    ]
    assert sc.sensor("pendant").addr == "a4c138000009"
    assert sc.sensor("door").room == "entrance" and sc.sensor("temp").room == "living"


BAD = """resident: Bruno
sensors: pir kitchen, camera hall, ble pendant 'A4:C1:38' key 00
days: many
25:00 kitchen
08:30 garden
09:00-08:00 bathroom
kitchen
smoke at 10:00
heat wave from 12:00 to 13:00
"""


def test_a_bad_file_names_each_wrong_line_and_what_is_wrong():
    with pytest.raises(S.ScenarioError) as e:
        S.parse(BAD, "bruno.txt")
    errors = e.value.errors
    lines = [n for n, _ in errors]
    assert lines == [2, 2, 3, 4, 5, 6, 7, 8, 9]
    msg = dict(errors[2:])
    assert "MAC address in quotes" in errors[0][1]
    assert errors[1][1].startswith("unknown sensor 'camera hall': expected pir, door,")
    assert "whole number" in msg[3] and "'many'" in msg[3]
    assert "'25:00' is not a time of day" in msg[4]
    assert "don't know what '08:30 garden' means" in msg[5]
    assert "not after it starts" in msg[6]
    assert "no time" in msg[7]
    assert "no smoke alarm" in msg[8]
    assert "peak" in msg[9]
    assert str(e.value).splitlines()[0].startswith("bruno.txt:2: ")


def test_a_sensor_the_hub_has_no_input_for_is_an_error_at_its_line():
    sc = S.parse("sensors: pir kitchen,\n  pir entrance\n08:00 kitchen\n")
    with pytest.raises(S.ScenarioError) as e:
        S.events(sc)
    assert e.value.errors == [
        (2, "the hub has no input wired for 'pir entrance' (motion/entrance)")
    ]


def test_events_are_time_ordered_and_deterministic(maria):
    sc, evs = maria
    assert [e.t_ms for e in evs] == sorted(e.t_ms for e in evs)
    assert S.events(S.load(MARIA)) == evs
    sc.seed += 1
    try:
        assert S.events(sc) != evs
    finally:
        sc.seed -= 1


def motions(evs, room=None):
    return [e.t_ms for e in evs if e.op == "motion" and room in (None, e.args["room"])]


def test_no_motion_while_out_and_the_door_brackets_the_outing(maria):
    _, evs = maria
    assert not [t for t in motions(evs) if at("10:00") <= t <= at("11:30")]
    doors = [(e.t_ms, e.args["opened"]) for e in evs if e.op == "door"]
    assert [o for _, o in doors] == [True, False, True, False]
    assert doors[0][0] == at("10:00") and doors[2][0] == at("11:30")
    assert at("10:00") < doors[1][0] < at("10:00") + 20_000  # shut behind her
    assert at("11:30") < doors[3][0] < at("11:30") + 20_000
    assert motions(evs)[-1] < at("22:30")  # asleep after


def test_motion_retriggers_every_30_to_90_s_in_the_room_she_is_in(maria):
    _, evs = maria
    kitchen = [t for t in motions(evs, "kitchen") if at("19:00") <= t < at("19:45")]
    gaps = [b - a for a, b in zip(kitchen, kitchen[1:], strict=False)]
    assert len(kitchen) >= 45 * 60 // 90
    assert min(gaps) >= 30_000 and max(gaps) <= 90_000
    assert len(set(gaps)) > len(gaps) // 2  # jittered, not a metronome
    for room in S.ROOMS:  # one PIR never fires twice within its blind time
        times = motions(evs, room)
        assert all(b - a >= 5_000 for a, b in zip(times, times[1:], strict=False))
    elsewhere = set(motions(evs)) - set(kitchen)
    assert not [t for t in elsewhere if at("19:00") + 5_000 < t < at("19:45")]


def test_bed_panic_and_smoke(maria):
    _, evs = maria
    bed = [(e.t_ms, e.args["occupied"]) for e in evs if e.op == "bed"]
    assert [o for _, o in bed] == [True, False, True, False, True]
    assert bed[0][0] == 0 and at("07:30") <= bed[1][0] < at("07:31")
    assert at("13:00") < bed[2][0] < at("13:01") and at("22:30") < bed[4][0] < at("22:31")
    panics = [e.t_ms for e in evs if e.op == "press_panic"]
    assert len(panics) == 1 and at("09:00") <= panics[0] < at("09:00") + 10_000
    smoke = [(e.t_ms, e.args) for e in evs if e.op == "alarm"]
    assert smoke == [
        (at("13:05"), {"kind": "smoke", "on": True}),
        (at("13:15"), {"kind": "smoke", "on": False}),
    ]


def test_the_heat_wave_exceeds_30_c_only_inside_its_window(maria):
    _, evs = maria
    temps = [(e.t_ms, e.args["celsius"]) for e in evs if e.op == "temperature"]
    assert len(temps) == 24 * 12  # every five minutes
    hot = [t for t, c in temps if c > 30]
    assert hot and min(hot) > at("12:00") and max(hot) < at("18:00")
    assert max(c for _, c in temps) == pytest.approx(31.0, abs=0.01)
    assert all(19.5 < c < 23 for t, c in temps if not at("12:00") <= t < at("18:00"))
    steps = [abs(b[1] - a[1]) for a, b in zip(temps, temps[1:], strict=False)]
    assert max(steps) < 2.5  # drifts, never jumps


def test_ble_advertisements_decode_on_the_hub_in_order(maria, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "firmware"))
    from hub import bthome

    sc, evs = maria
    rx = bthome.Receiver()
    for s in sc.sensors:
        if s.addr:
            rx.add(bytes.fromhex(s.addr), s.key)
    got = {}
    for e in evs:
        if e.op == "ble":
            r = rx.feed(bytes.fromhex(e.args["addr"]), bytes.fromhex(e.args["adv"]))
            if r is not None:
                got.setdefault(e.args["addr"], []).append((e.t_ms, dict(r)))
    assert rx.rejected == 0  # encrypted counters rise with time
    climate = got["a4c138000002"]
    assert len(climate) == 24 * 6  # every ten minutes; each sent twice, the copy dropped
    hot = [t for t, c in climate if c[bthome.TEMPERATURE] > 30]
    assert hot and at("12:00") < min(hot) and max(hot) < at("18:00")
    pendant = got["a4c138000001"]
    assert len(pendant) == 24 and all(bthome.BATTERY in r for _, r in pendant)
    for name in ("hub", "hub.bthome"):
        sys.modules.pop(name, None)


FALL = """sensors: pir bathroom, pir living, ble pendant 'A4:C1:38:00:00:05'
days: 2
08:00 living
21:00 bed
day 2:
10:00 fall in bathroom
"""


def test_a_fall_is_a_pendant_long_press_then_stillness_for_the_day(monkeypatch):
    evs = S.events(S.parse(FALL))
    day2 = 24 * H
    assert motions(evs, "bathroom") == [day2 + at("10:00") + 500]
    assert not [t for t in motions(evs) if day2 + at("10:00") + 500 < t < 2 * day2]
    monkeypatch.syspath_prepend(str(ROOT / "firmware"))
    from hub import bthome

    rx = bthome.Receiver()
    rx.add(bytes.fromhex("a4c138000005"))
    presses = []
    for e in evs:
        r = (
            rx.feed(bytes.fromhex(e.args["addr"]), bytes.fromhex(e.args["adv"]))
            if e.op == "ble"
            else None
        )
        if r and dict(r).get(bthome.BUTTON):
            presses.append((e.t_ms, dict(r)[bthome.BUTTON]))
    assert len(presses) == 1 and presses[0][1] == bthome.LONG_PRESS
    assert 0 < presses[0][0] - (day2 + at("10:00")) < 15_000
    for name in ("hub", "hub.bthome"):
        sys.modules.pop(name, None)


WEEK = """sensors: pir kitchen, pir living, panic
days: 7
08:00 kitchen
09:00 living
day 3:
09:30 panic
days 6..7:
10:00 kitchen
11:00 living
"""


def test_day_blocks_add_incidents_and_replace_that_days_activities():
    sc = S.parse(WEEK)
    evs = S.events(sc)
    assert [e.t_ms // (24 * H) for e in evs if e.op == "press_panic"] == [2]
    first_kitchen = {}
    for t in motions(evs, "kitchen"):
        first_kitchen.setdefault(t // (24 * H), t % (24 * H))
    assert [first_kitchen[d] // M for d in range(7)] == [480] * 5 + [600] * 2


def test_a_written_out_scenario_reads_back_to_the_same_events(maria):
    sc, evs = maria
    assert S.events(S.parse(S.to_text(sc))) == evs
    forgiving = S.parse(FORGIVING)
    assert S.events(S.parse(S.to_text(forgiving))) == S.events(forgiving)
