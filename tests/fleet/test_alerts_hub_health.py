"""The technician's hub page charts the kept heartbeat figures (RSSI, free heap, queue
depth) over the last 24 hours or 7 days as server-rendered SVG; scoped like the page.
Both databases."""

import re
from datetime import timedelta

from sqlmodel import select

from fleet.db import session
from fleet.models import Hub, HubHealthSample, utcnow
from fleet.web.fleetpages import CHART_W, health_charts
from tests.fleet.test_web import browser, world  # noqa: F401  (fixture)


def _samples(w, hours):
    """One heartbeat an hour for `hours` hours back from now on hub-a; returns its pk."""
    now = utcnow()
    with session(w.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        for h in range(hours):
            db.add(
                HubHealthSample(
                    hub_id=hub.id,
                    at=now - timedelta(hours=h, minutes=30),
                    rssi=-50 - h % 20,
                    free_heap=80 * 1024 + h,
                    queue_depth=h % 3,
                )
            )
        db.commit()
        return hub.id


def _chart(html, field):
    m = re.search(rf'<svg[^>]*data-field="{field}".*?</svg>', html, re.S)
    return m.group(0) if m else None


def _points(svg):
    return re.search(r'points="([^"]*)"', svg).group(1).split()


def test_the_hub_page_charts_the_last_day_and_the_last_week(world):  # noqa: F811
    hub = _samples(world, 24 * 8)
    c = browser(world, "tech")
    day = c.get(f"/hubs/{hub}").text
    assert "Storico della salute" in day
    for field in ("rssi", "free_heap", "queue_depth"):
        assert len(_points(_chart(day, field))) == 24, field
    assert "Segnale Wi-Fi (dBm): -50" in day  # the newest figure
    assert 'aria-label="Segnale Wi-Fi (dBm): -69–-50"' in day
    week = c.get(f"/hubs/{hub}?span=7d").text
    assert len(_points(_chart(week, "rssi"))) == 24 * 7
    assert "Memoria libera (KB): 80.0" in week
    xs = [float(p.split(",")[0]) for p in _points(_chart(week, "rssi"))]
    assert xs == sorted(xs) and 0 <= xs[0] and xs[-1] <= CHART_W
    assert browser(world, "vol").get(f"/hubs/{hub}").status_code == 200  # her condominium
    assert browser(world, "vol_b").get(f"/hubs/{hub}").status_code == 404


def test_a_hub_without_heartbeats_says_so(world):  # noqa: F811
    with session(world.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-b")).one()
    html = browser(world, "tech").get(f"/hubs/{hub.id}").text
    assert "Nessun dato in questo periodo." in html and _chart(html, "rssi") is None


def test_a_steady_figure_still_draws_a_line_in_the_frame():
    now = utcnow()
    rows = [HubHealthSample(hub_id=1, at=now - timedelta(hours=h), rssi=-60) for h in (1, 2)]
    [chart] = health_charts(rows, now - timedelta(hours=24), timedelta(hours=24))
    ys = {float(p.split(",")[1]) for p in chart["points"].split()}
    assert len(ys) == 1 and 0 < ys.pop() < chart["height"]
