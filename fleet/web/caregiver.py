"""The caregiver's pages: the residents they look after with a clear status, and a
resident's day as a picture with the routine the rules have learned. Admins may open
them too; every resident is reached through fleet.services.scope. While an update is
pending or under way on a hub serving a resident, both pages say in plain words that
her monitoring will pause, and for about how long (fleet.ota.deployments); while a
volunteer walk-tests such a hub, the list says so (fleet.services.walktest)."""

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from fleet.db import session
from fleet.models import ADMIN, CAREGIVER, Condominium, Flat, Resident, utcnow
from fleet.ota import deployments
from fleet.rules import Engine, routine
from fleet.rules import Settings as RuleSettings
from fleet.services import scope, walktest
from fleet.web import alerts, charts, otareasons
from fleet.web.pages import TZ, Page, PageError, hhmm, page_for
from fleet.web.status import day_rows, last_activity, status

router = APIRouter(include_in_schema=False)
Carer = Annotated[Page, Depends(page_for(ADMIN, CAREGIVER))]


def _place(db, resident):
    flat = db.get(Flat, resident.flat_id)
    return flat, db.get(Condominium, flat.condominium_id)


def update_notice(db, resident, t):
    """The plain-language notice of an update that will pause the resident's monitoring,
    or None."""
    pause = deployments.monitoring_pause(db, resident)
    if pause is None:
        return None
    return otareasons.notice(t, pause, resident.name.split()[0])


def walktest_note(db, resident, t, now):
    """The note that a volunteer is testing the sensors of her home, or None."""
    until = walktest.serving(db, resident, now)
    name = resident.name.split()[0]
    return t("wt_care_note", time=hhmm(until), name=name) if until else None


@router.get("/care")
def my_residents(page: Carer):

    now = utcnow()
    rows = []
    with session(page.request.app.state.engine) as db:
        for r in db.exec(scope.visible(page.user, Resident).order_by(Resident.name)).all():
            level, reasons = status(db, r, now, page.t)
            flat, condo = _place(db, r)
            rows.append({"r": r, "level": level, "reasons": reasons, "flat": flat, "condo": condo,
                         "notice": update_notice(db, r, page.t),
                         "walktest": walktest_note(db, r, page.t, now)})  # fmt: skip
        found = alerts.rows(db, page.user, page.lang)
        return page.render("care.html", rows=rows, alerts=found, resident_id=None)


def _routine(db, resident, lang):
    snap = alerts.rules_snapshot(db, resident.id)
    if snap is None:
        return None
    settings = RuleSettings(name=resident.name.split()[0], language=lang)
    return routine(Engine.restore(settings, snap), lang)


def _day(text):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise PageError(404) from None


@router.get("/residents/{resident_id}")
def resident_day(resident_id: int, page: Carer, day: str | None = None):

    now = utcnow()
    shown = _day(day) or now.astimezone(TZ).date()
    start = datetime(shown.year, shown.month, shown.day, tzinfo=TZ)
    end = start + timedelta(days=1)
    with session(page.request.app.state.engine) as db:
        resident = scope.get(db, page.user, Resident, resident_id)
        if resident is None:
            raise PageError(404)
        sensors, events, temps = day_rows(db, resident, start, end)
        level, reasons = status(db, resident, now, page.t)
        flat, condo = _place(db, resident)
        ctx = {
            "r": resident,
            "flat": flat,
            "condo": condo,
            "level": level,
            "reasons": reasons,
            "day": shown,
            "prev_day": shown - timedelta(days=1),
            "next_day": shown + timedelta(days=1) if shown < now.astimezone(TZ).date() else None,
            "strip": charts.activity_strip(events, sensors, start),
            "curve": charts.temperature_curve(temps, start),
            "last": last_activity(db, [s.id for s in sensors]),
            "routine": _routine(db, resident, page.lang),
            "alerts": alerts.rows(db, page.user, page.lang, resident.id),
            "resident_id": resident.id,
            "notice": update_notice(db, resident, page.t),
        }
        return page.render("resident.html", **ctx)
