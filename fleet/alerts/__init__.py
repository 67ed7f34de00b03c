"""Alerts, escalation and notifications (issue 6): the rules engine's conditions become
Alert rows, escalate along the care circle and go out through a database outbox.

    from fleet import alerts
    alerts.stored(db, hub, readings, events, now)   # telemetry's hook, in its transaction
    alerts.need_replay(since); alerts.replay(db)    # what the rules missed (failure, restart)
    AlertRunner(settings, engine)                   # fleet/alerts/runner.py, in serve()

Modules: engines (each resident's rules Engine in RuleState), lifecycle (alert states
and escalation), outbox and channels (delivery), messages (Italian/English text),
figures (service figures).
"""

import logging

log = logging.getLogger("fleet.alerts")
wakers = []  # AlertRunner.wake of the running server: new alerts go out at once
replay_since = None  # see need_replay(): a failed hook or a restart leaves work to redo


def stored(db, hub, readings, events, now):
    """Feed just-stored telemetry to the rules in the caller's transaction, which the
    engines' save commits with the pack (one commit per message, not one each). Never
    raises. Returns False when the rules failed: the transaction was rolled back, pack
    included, and the caller stores the pack again alone. After a failure (or a restart:
    see need_replay) the next call, and the runner's next round, first replay whatever
    the engines have not seen, so nothing stored escapes the rules.

    The engines are taken while this transaction holds locks (its rows; on SQLite the
    write lock), so whoever holds the engines must never wait for those: on PostgreSQL
    engines code writes no telemetry rows; on SQLite, where every write waits for the one
    writer, it writes only from the event loop's thread, which also runs the CoAP
    handlers (alerts/runner.py), and elsewhere only reads (lifecycle.resolve)."""
    from fleet.alerts import engines

    committed = replay_since is not None
    if committed:
        db.commit()  # the pack first: a replay commits and rolls back receipt by receipt
    try:
        opened = replay(db)  # older packs first, when some were missed
        opened += engines.observe_stored(db, hub, readings, events, now)
    except Exception:
        log.exception("rules failed on telemetry of hub %s", getattr(hub, "hub_id", "?"))
        db.rollback()
        need_replay(now)
        return committed
    if opened:
        for wake in wakers:
            wake()
    return True


def need_replay(since):
    """Telemetry received at or after `since` may not have reached the rules."""
    global replay_since
    if replay_since is None or since < replay_since:
        replay_since = since


def replay(db):
    """Feed the engines what they have not seen since need_replay's time; clears the
    need only when that worked (raises otherwise). Returns the alerts opened."""
    global replay_since
    from fleet.alerts import engines

    if replay_since is None:
        return []
    since = replay_since
    opened = engines.replay(db, since)
    if replay_since == since:
        replay_since = None
    return opened
