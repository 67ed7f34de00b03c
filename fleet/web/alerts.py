"""The pages' one door to the alerts the rules raise (fleet/alerts owns them; the pages
only read the Alert and RuleState tables and call its lifecycle to acknowledge and
resolve).

    open_for(db, resident_ids)         -> the residents' unresolved care alerts, newest first
    rows(db, user, lang, resident_id)  -> what the alerts fragment shows the user
    text(alert, lang)                  -> the rules' explanation of an alert
    rules_snapshot(db, resident_id)    -> the engine's saved state, or None
"""

from sqlmodel import select

from fleet.api.deps import as_utc
from fleet.db import session
from fleet.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_NOTIFIED,
    ALERT_OPEN,
    Alert,
    Resident,
    RuleState,
    User,
)
from fleet.rules import CARE, CRITICAL, URGENT, Condition
from fleet.services import scope

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


def text(alert, lang):
    facts = dict(alert.facts or {})
    subject = facts.pop("subject", None)
    since, at = as_utc(alert.since).timestamp(), as_utc(alert.opened_at).timestamp()
    cond = Condition(
        alert.rule, subject, alert.severity, since, at, alert.audience, alert.auto, facts
    )
    try:
        return cond.text(lang)
    except (KeyError, ValueError, TypeError):
        return alert.rule  # facts from an older engine: the rule's name still says enough


def _resident_ids(db, user):
    return list(db.exec(scope.visible(user, Resident).with_only_columns(Resident.id)).all())


def rows(db, user, lang, resident_id=None):
    """[(alert, resident, text, acknowledger)] for the fragment."""
    ids = _resident_ids(db, user)
    if resident_id is not None:
        ids = [i for i in ids if i == resident_id]
    out = []
    for a in open_for(db, ids):
        who = db.get(User, a.acknowledged_by) if a.acknowledged_by else None
        out.append((a, db.get(Resident, a.resident_id), text(a, lang), who))
    return out


def fingerprint(engine, user):
    """What the stream watches: the ids and states of the user's unresolved alerts."""
    with session(engine) as db:
        ids = _resident_ids(db, user)
        return tuple((a.id, a.state, a.repeats) for a in open_for(db, ids))


def rules_snapshot(db, resident_id):
    state = db.get(RuleState, resident_id)
    return state.snapshot if state is not None else None
