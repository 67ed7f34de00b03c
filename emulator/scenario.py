"""Resident scenarios: a day in a flat written as a file a volunteer can read, turned into
the timed sensor events the flat would produce.

    resident: Maria Bianchi, flat 3B
    sensors: pir bedroom, pir kitchen, pir bathroom, pir living, pir entrance,
             door entrance, bed bedroom, panic living, temp living (sht3x),
             ble pendant 'A4:C1:38:00:00:01' key 231d39c1d7cc1ab1aee224cd096db932
    days: 7
    07:30 wakes in bedroom
    07:45 kitchen            # a time and a place: she is there until the next one
    08:10-08:25 bathroom     # an interval: then back where she was
    10:00-11:30 out
    22:30 bed
    day 3:                   # lines below hold for day 3 only
    14:10 fall in bathroom
    heat wave 31 C from 12:00 to 18:00

Places: the rooms (entrance, kitchen, bathroom, bedroom, living; a few synonyms such as
"breakfast" or "shower" name their room), `out`, `bed`, `nap [in ROOM]`, `wakes [in
ROOM]`. Incidents: `panic`, `fall [in ROOM]`, `no activity` (she stops moving for the
rest of that day), `front door opened|closed`, `smoke|gas|water leak [in ROOM] [for N
min]`, `heat wave 31 C` over an interval. Times come first (`07:30`, `08:10-08:25`) or
anywhere as `at 07:30`, `after 09:00`, `from 12:00 to 18:00`. `#` starts a comment.

A day block's own activities replace the routine's for that day; incidents add up. A fall
is seen by the PIR of that room, then by nothing: she lies still for the rest of the day.
If she wears a pendant (`ble pendant` or `ble button`), it reports the fall as a BTHome
`long_press` (a pendant's automatic fall alert; a press by hand is `press`).

The file format is emulator/scenario_file.py (parse, load, to_text), its playback
emulator/scenario_play.py: events(scenario) gives [(t_ms, op, args)] sorted by time, args
as Sensors.command takes them (BLE bytes in hex); feed() plays them into an in-process
Sensors, send() to a hub process, both on the hub's virtual clock. Both are imported
from here.
"""

from emulator.scenario_file import (
    ROOMS,
    Activity,
    DayPlan,
    Incident,
    Scenario,
    ScenarioError,
    Sensor,
    load,
    parse,
    to_text,
)
from emulator.scenario_play import DAY_S, Event, events, feed, indoor_temperature, send

__all__ = [
    "ROOMS", "Activity", "DayPlan", "Event", "Incident", "Scenario", "ScenarioError",
    "Sensor", "events", "feed", "indoor_temperature", "load", "parse", "send", "to_text",
]  # fmt: skip


def main(argv=None):
    """`python -m emulator.scenario FILE [--events]`: check a scenario and summarise what
    the sensors will see each day (or print every event); errors as FILE:LINE: sentence."""
    import argparse
    import json
    import sys
    from collections import Counter

    ap = argparse.ArgumentParser(prog="python -m emulator.scenario")
    ap.add_argument("file")
    ap.add_argument("--events", action="store_true", help="print every event as a JSON line")
    a = ap.parse_args(argv)
    try:
        sc = load(a.file)
        evs = events(sc)
    except (OSError, ScenarioError) as e:
        print(f"scenario: {e}", file=sys.stderr)
        return 1
    if a.events:
        for ev in evs:
            print(json.dumps(list(ev)))
        return 0
    print(f"{sc.resident or a.file}: {sc.day_count()} day(s), {len(sc.sensors)} sensors")
    for day in range(sc.day_count()):
        n = Counter(ev.op for ev in evs if ev.t_ms // (DAY_S * 1000) == day)
        print(f"day {day + 1}: " + ", ".join(f"{k} {v}" for k, v in sorted(n.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
