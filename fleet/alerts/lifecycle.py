"""An alert's life: open → notified → acknowledged → resolved, and its escalation.

    apply(db, resident, eng, changes, now)        # rules Changes → Alert rows (not committed)
    escalate_due(db, settings, now)               # call the next level where a timeout ran out
    acknowledge(db, alert, user, now)             # stops escalation; cancels unsent calls
    resolve(db, alert, user, now, reason, note)   # a person closes it ("false_alarm", …)

One unresolved alert per (resident, rule, subject): Alert.open_key is unique. A condition
raised again while its alert is unresolved is a repeat folded into it. Conditions that
clear resolve their alert with the engine's reason and a note; the alarms (panic, fall,
smoke, gas, water) are never resolved but by a person.

Escalation ladder: for the care circle, one level per CareCircleMember.position (1
first); for technical alerts, the condominium's volunteers and then the technicians. An
empty ladder falls back to the admins, so an alert always reaches someone. A level not
acknowledged within its timeout hands over to the next; after the last the ladder starts
again, until someone acknowledges.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select

from fleet.alerts import outbox
from fleet.api.deps import as_utc
from fleet.models import (
    ADMIN,
    ALERT_ACKNOWLEDGED,
    ALERT_NOTIFIED,
    ALERT_OPEN,
    ALERT_RESOLVED,
    TECHNICIAN,
    VOLUNTEER,
    Alert,
    AlertStep,
    CareCircleMember,
    Flat,
    Notification,
    Resident,
    RuleState,
    User,
    VolunteerCondominium,
)
from fleet.rules import ALARMS, CRITICAL, TECH, TECHNICAL, Condition
from fleet.services.audit import audit

UNRESOLVED = (ALERT_OPEN, ALERT_NOTIFIED, ALERT_ACKNOWLEDGED)


def _dt(epoch):
    return datetime.fromtimestamp(epoch, UTC)


def _open_key(resident_id, rule, subject):
    return f"{resident_id}:{rule}:{'' if subject is None else subject}"


def engine_key(alert):
    """The rules engine's (rule, subject) key of an alert."""
    return (alert.rule, alert.facts.get("subject"))


def condition(alert):
    """The rules Condition an alert was raised for, to explain it (Condition.text)."""
    facts = dict(alert.facts)
    subject = facts.pop("subject", None)
    since, at = as_utc(alert.since).timestamp(), as_utc(alert.opened_at).timestamp()
    return Condition(
        alert.rule, subject, alert.severity, since, at, alert.audience, alert.auto, facts
    )


def _unresolved(db, resident_id, rule, subject):
    key = _open_key(resident_id, rule, subject)
    return db.exec(select(Alert).where(Alert.open_key == key)).first()


def monitored(resident, cond):
    """Watching a resident's day needs her consent on record (GDPR): without it only the
    alarms (a press is her asking for help; smoke, gas and water endanger the building)
    and the technical conditions (the equipment, not her) become alerts."""
    return resident.consent_date is not None or cond.rule in ALARMS or cond.severity == TECHNICAL


def apply(db, resident, eng, changes, now):
    """Turn the engine's Changes into Alert rows; returns the alerts opened."""
    opened = []
    for cond in changes.raised:
        if not monitored(resident, cond):
            continue
        alert = _unresolved(db, resident.id, cond.rule, cond.subject)
        if alert is not None:
            alert.repeats += 1
            alert.last_at = now
            db.add(alert)
            continue
        alert = Alert(
            resident_id=resident.id,
            rule=cond.rule,
            subject="" if cond.subject is None else str(cond.subject),
            severity=cond.severity,
            audience=cond.audience,
            open_key=_open_key(resident.id, cond.rule, cond.subject),
            auto=cond.auto and cond.rule not in ALARMS,
            since=_dt(cond.since),
            opened_at=now,
            facts=dict(cond.facts, subject=cond.subject),
            escalate_at=now,  # the first level is called at once, by escalate_due
        )
        db.add(alert)
        db.flush()
        audit(db, None, "open", "alert", alert.id, rule=alert.rule, severity=alert.severity)
        opened.append(alert)
    for cleared in changes.cleared:
        if cleared.reason == "resolved":
            continue  # a person's resolve: already recorded by resolve()
        alert = _unresolved(db, resident.id, cleared.condition.rule, cleared.condition.subject)
        if alert is None or not alert.auto:
            continue
        _close(db, alert, None, now, cleared.reason, cleared.text(resident.language))
    _sync_repeats(db, resident, eng)
    return opened


def _sync_repeats(db, resident, eng):
    # The engine folds repeated alarms (a second press) into the raised condition.
    for key, cond in eng.raised.items():
        repeats = cond.facts.get("repeats", 0)
        if not repeats:
            continue
        alert = _unresolved(db, resident.id, key[0], key[1])
        if alert is not None and alert.repeats < repeats:
            alert.repeats = repeats
            alert.facts = dict(alert.facts, repeats=repeats)
            db.add(alert)


def _close(db, alert, user, now, reason, note):
    alert.state = ALERT_RESOLVED
    alert.open_key = None
    alert.resolved_at = now
    alert.resolved_by = user.id if user is not None else None
    alert.resolution = reason
    alert.resolution_note = note
    alert.escalate_at = None
    db.add(alert)
    _cancel_pending(db, alert)
    audit(db, user, "resolve", "alert", alert.id, reason=reason)


def _cancel_pending(db, alert):
    db.exec(
        update(Notification)
        .where(Notification.alert_id == alert.id, Notification.state == outbox.PENDING)
        .values(state=outbox.CANCELLED)
    )


def acknowledge(db, alert, user, now):
    """A person takes charge: escalation stops and calls not yet sent are cancelled.
    Acknowledging twice keeps the first. Not committed."""
    if alert.state in (ALERT_ACKNOWLEDGED, ALERT_RESOLVED):
        return alert
    alert.state = ALERT_ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = user.id
    alert.escalate_at = None
    db.add(alert)
    _cancel_pending(db, alert)
    audit(db, user, "acknowledge", "alert", alert.id)
    return alert


def resolve(db, alert, user, now, reason, note=""):
    """A person closes the alert (reason "handled", "false_alarm", …); the engine forgets
    the condition so a new press opens a new alert. Not committed."""
    from fleet.alerts.engines import resolve_condition

    if alert.state == ALERT_RESOLVED:
        return alert
    # The engine first, before this transaction writes anything: engines change one at
    # a time (engines.py), and waiting for that while holding database locks could
    # stall a writer that holds the engines.
    resolve_condition(db, alert, now)
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, user.id
    _close(db, alert, user, now, reason, note)
    return alert


# --- escalation -----------------------------------------------------------------------------


def ladder(db, alert):
    """The levels of people to call for `alert`: a list of lists of active Users."""
    resident = db.get(Resident, alert.resident_id)
    levels = []
    if alert.audience == TECH:
        condo = db.get(Flat, resident.flat_id).condominium_id
        vols = db.exec(
            select(User)
            .join(VolunteerCondominium, VolunteerCondominium.user_id == User.id)
            .where(VolunteerCondominium.condominium_id == condo, User.role == VOLUNTEER)
            .where(User.active)
            .order_by(User.id)
        ).all()
        techs = db.exec(
            select(User).where(User.role == TECHNICIAN, User.active).order_by(User.id)
        ).all()
        levels = [list(vols), list(techs)]
    else:
        rows = db.exec(
            select(CareCircleMember, User)
            .join(User, User.id == CareCircleMember.user_id)
            .where(CareCircleMember.resident_id == resident.id, User.active)
            .order_by(CareCircleMember.position, CareCircleMember.id)
        ).all()
        by_position = {}
        for member, user in rows:
            by_position.setdefault(member.position, []).append(user)
        levels = [by_position[p] for p in sorted(by_position)]
    levels = [level for level in levels if level]
    if not levels:
        admins = db.exec(select(User).where(User.role == ADMIN, User.active)).all()
        levels = [list(admins)] if admins else []
    return levels


def timeout(db, settings, alert, level):
    """Seconds `level` has to acknowledge: the resident's per-level list if set, else
    the settings' default for the alert's severity."""
    state = db.get(RuleState, alert.resident_id)
    critical = alert.severity == CRITICAL
    per_level = ((state.settings or {}).get("escalation") or {}) if state is not None else {}
    steps = per_level.get("critical" if critical else "other")
    if steps:
        return float(steps[min(level, len(steps) - 1)])
    return float(settings.alert_timeout_critical_s if critical else settings.alert_timeout_s)


def escalate(db, settings, alert, now):
    """Call the next level of the ladder (the first, on a new alert) and set the next
    timeout: steps and outbox rows in the caller's transaction."""
    levels = ladder(db, alert)
    if not levels:
        alert.escalate_at = now + timedelta(seconds=settings.alert_timeout_critical_s)
        db.add(alert)
        return []
    level, rnd = alert.level + 1, alert.round
    if level >= len(levels):
        level, rnd = 0, rnd + 1
    step = len(db.exec(select(AlertStep.id).where(AlertStep.alert_id == alert.id)).all())
    resident = db.get(Resident, alert.resident_id)
    queued = []
    for user in levels[level]:
        db.add(
            AlertStep(alert_id=alert.id, step=step, level=level, round=rnd, user_id=user.id, at=now)
        )
        queued += outbox.enqueue_alert(db, settings, alert, resident, user, f"{step}", now)
        step += 1
    alert.level, alert.round = level, rnd
    alert.escalate_at = now + timedelta(seconds=timeout(db, settings, alert, level))
    db.add(alert)
    return queued


def escalate_due(db, settings, now):
    """Escalate every unacknowledged alert whose level timed out; one commit each."""
    ids = db.exec(
        select(Alert.id).where(
            Alert.escalate_at <= now, Alert.state.in_((ALERT_OPEN, ALERT_NOTIFIED))
        )
    ).all()
    queued = 0
    for alert_id in ids:
        alert = db.get(Alert, alert_id)
        queued += len(escalate(db, settings, alert, now))
        db.commit()
    return queued
