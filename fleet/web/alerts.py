"""The pages' one door to the alerts the rules raise (fleet/alerts owns them; the pages
only read the Alert and RuleState tables and call its lifecycle to acknowledge and
resolve).

    open_for(db, resident_ids)         -> the residents' unresolved care alerts, newest first
    mine(db, user, resident_id=None)   -> the unresolved alerts the user may see and act on
    rows(db, user, lang, resident_id)  -> what the alerts fragment shows the user
    text(alert, lang)                  -> the rules' explanation of an alert
    detail(db, user, alert, lang)      -> what the alert's own page shows (who was told, …)
    rules_snapshot(db, resident_id)    -> the engine's saved state, or None
"""

from sqlmodel import select

from fleet.api.deps import as_utc
from fleet.db import session
from fleet.models import (
    ADMIN,
    ALERT_ACKNOWLEDGED,
    ALERT_NOTIFIED,
    ALERT_OPEN,
    CAREGIVER,
    TECHNICIAN,
    VOLUNTEER,
    Alert,
    AlertStep,
    Condominium,
    Flat,
    Resident,
    RuleState,
    User,
)
from fleet.rules import CARE, CRITICAL, URGENT, Condition
from fleet.services import scope
from fleet.web.i18n import translator

UNRESOLVED = (ALERT_OPEN, ALERT_NOTIFIED, ALERT_ACKNOWLEDGED)


def open_for(db, resident_ids):
    """Unresolved alerts meant for the care circle (technical ones go to volunteers and
    technicians) of residents the caller has already scope-checked."""
    if not resident_ids:
        return []
    return db.exec(
        select(Alert)
        .where(Alert.resident_id.in_(resident_ids), Alert.state.in_(UNRESOLVED))
        .where(Alert.audience == CARE)
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
    ).all()


def is_urgent(alert):
    return alert.severity in (CRITICAL, URGENT)


def text(alert, lang, named=True):
    """The rules' explanation; without `named` the resident is "the resident" (for
    technicians, who never see a name)."""
    facts = dict(alert.facts or {})
    subject = facts.pop("subject", None)
    if not named:
        facts.pop("name", None)
    since, at = as_utc(alert.since).timestamp(), as_utc(alert.opened_at).timestamp()
    cond = Condition(
        alert.rule, subject, alert.severity, since, at, alert.audience, alert.auto, facts
    )
    try:
        return cond.text(lang)
    except (KeyError, ValueError, TypeError):
        return alert.rule  # facts from an older engine: the rule's name still says enough


def mine(db, user, resident_id=None):
    """The unresolved alerts `user` may see and act on — by fleet.services.scope, the
    rule the API uses too."""
    stmt = scope.visible(user, Alert).where(Alert.state.in_(UNRESOLVED))
    if resident_id is not None:
        stmt = stmt.where(Alert.resident_id == resident_id)
    return db.exec(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc())).all()


def _who(db, user, resident):
    if user.role in (ADMIN, CAREGIVER):
        return resident.name
    flat = db.get(Flat, resident.flat_id)
    first = (resident.name.split() or [""])[0] if user.role == VOLUNTEER else ""
    return " · ".join(x for x in (first, flat.label) if x)


def rows(db, user, lang, resident_id=None):
    """[(alert, who, text, acknowledger)] for the fragment; `who` names the resident as
    much as the user's role may know (a technician gets the flat only)."""
    out = []
    for a in mine(db, user, resident_id):
        acker = db.get(User, a.acknowledged_by) if a.acknowledged_by else None
        who = _who(db, user, db.get(Resident, a.resident_id))
        out.append((a, who, text(a, lang, named=user.role != TECHNICIAN), acker))
    return out


def fingerprint(engine, user):
    """What the stream watches: the ids and states of the user's unresolved alerts."""
    with session(engine) as db:
        return tuple((a.id, a.state, a.repeats) for a in mine(db, user))


def rules_snapshot(db, resident_id):
    state = db.get(RuleState, resident_id)
    return state.snapshot if state is not None else None


def detail(db, user, alert, lang):
    """What the alert's page (the link in every notification) shows: the resident as the
    user's role may know her, the explanation, the advice, who was told and when, who
    takes it on next if nobody answers, and who took it on or closed it."""
    from fleet.alerts import lifecycle, messages

    resident = db.get(Resident, alert.resident_id)
    flat = db.get(Flat, resident.flat_id)
    first = (resident.name.split() or [resident.name])[0]
    told, seen = [], set()
    steps = db.exec(
        select(AlertStep).where(AlertStep.alert_id == alert.id).order_by(AlertStep.step)
    ).all()
    for step in steps:
        if step.user_id is not None and step.user_id not in seen:
            seen.add(step.user_id)
            person = db.get(User, step.user_id)
            if person is not None:
                told.append((person.name, step.at, person.id == user.id))
    next_names = []
    if alert.state in (ALERT_OPEN, ALERT_NOTIFIED) and alert.escalate_at is not None:
        levels = lifecycle.ladder(db, alert)
        if levels:
            following = alert.level + 1 if alert.level + 1 < len(levels) else 0
            you = translator(lang)("alert_next_you")
            next_names = [you if u.id == user.id else u.name for u in levels[following]]
    acker = db.get(User, alert.acknowledged_by) if alert.acknowledged_by else None
    closer = db.get(User, alert.resolved_by) if alert.resolved_by else None
    return {
        "alert": alert,
        "who": _who(db, user, resident),
        "resident": resident if user.role in (ADMIN, CAREGIVER) else None,
        "place": (db.get(Condominium, flat.condominium_id), flat),
        "title": messages.title(alert.rule, lang),
        "text": text(alert, lang, named=user.role != TECHNICIAN),
        "advice": messages.advice(alert, first, lang),
        "told": told,
        "next_names": next_names,
        "acker": acker,
        "closer": closer,
        "open": alert.state in UNRESOLVED,
    }
