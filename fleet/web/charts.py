"""A resident's day as pictures, drawn on the server as inline SVG: a 24-hour activity
strip per room and a temperature curve. Pure functions of rows already read; no
script needed to see them, and every shape has a text equivalent for screen readers."""

from fleet.api.deps import as_utc
from fleet.models import ROOMS

SLOT_MIN = 10  # one cell of the strip: fine enough to see a night's bathroom visit
SLOTS = 24 * 60 // SLOT_MIN
WIDTH, ROW_H = 720, 34
CURVE_H, PAD = 160, 28
ACTIVE = ("motion", "door", "bed", "chair", "window", "button", "panic", "fall")


def _minute(dt, day_start):
    return (as_utc(dt) - day_start).total_seconds() / 60


def activity_strip(events, sensors, day_start):
    """{"rooms": [{"room", "cells": [(x, w)], "count"}], "ticks": [(x, "HH")]} for a
    template to draw: x and w in the SVG's user units across WIDTH."""
    room_of = {s.id: s.room for s in sensors}
    busy = {room: set() for room in ROOMS}
    counts = dict.fromkeys(ROOMS, 0)
    for e in events:
        room = room_of.get(e.sensor_id)
        if room not in busy or e.kind not in ACTIVE or e.state is False:
            continue
        slot = int(_minute(e.t, day_start) // SLOT_MIN)
        if 0 <= slot < SLOTS:
            busy[room].add(slot)
            counts[room] += 1
    cell = WIDTH / SLOTS
    rooms = []
    for room in ROOMS:
        if room not in room_of.values():
            continue  # no sensor there: an empty row would read as "nothing happened"
        cells = [(round(s * cell, 2), round(cell, 2)) for s in sorted(busy[room])]
        rooms.append({"room": room, "cells": cells, "count": counts[room]})
    ticks = [(round(h * WIDTH / 24, 2), f"{h:02d}") for h in range(0, 25, 3)]
    return {"rooms": rooms, "ticks": ticks, "width": WIDTH, "row_h": ROW_H}


def temperature_curve(readings, day_start):
    """{"points": "x,y …", "lo", "hi", "ticks", "width", "height"}, or None without data.
    The y range always spans at least 18–26 °C so the comfort band stays in view."""
    pts = [(_minute(r.t, day_start), r.value) for r in readings]
    pts = [(m, v) for m, v in pts if 0 <= m <= 1440]
    if not pts:
        return None
    values = [v for _, v in pts]
    lo, hi = min(min(values), 18.0) - 1, max(max(values), 26.0) + 1
    plot_h = CURVE_H - 2 * PAD

    def y(v):
        return round(PAD + (hi - v) / (hi - lo) * plot_h, 2)

    points = " ".join(f"{round(m / 1440 * WIDTH, 2)},{y(v)}" for m, v in pts)
    grid = [(y(v), f"{v:g}") for v in (18, 22, 26) if lo <= v <= hi]
    return {
        "points": points,
        "lo": min(values),
        "hi": max(values),
        "grid": grid,
        "band": (y(26), y(18)),
        "ticks": [(round(h * WIDTH / 24, 2), f"{h:02d}") for h in range(0, 25, 3)],
        "width": WIDTH,
        "height": CURVE_H,
    }
