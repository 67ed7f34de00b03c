"""Alerts, escalation and notifications (issue 6): the rules engine's conditions become
Alert rows, escalate along the care circle and go out through a database outbox.

    from fleet import alerts
    alerts.stored(db, hub, readings, events, now)   # telemetry's hook (services/telemetry)
    AlertRunner(settings, engine)                   # fleet/alerts/runner.py, in serve()

Modules: engines (each resident's rules Engine in RuleState), lifecycle (alert states
and escalation), outbox and channels (delivery), messages (Italian/English text),
figures (service figures).
"""

import logging

log = logging.getLogger("fleet.alerts")
wakers = []  # AlertRunner.wake of the running server: new alerts go out at once


def stored(db, hub, readings, events, now):
    """Feed just-stored telemetry to the rules. Never raises: the pack is already stored
    and acknowledged; a failure here is logged, and these observations stay stored but
    unseen by the rules."""
    from fleet.alerts import engines

    try:
        opened = engines.observe_stored(db, hub, readings, events, now)
    except Exception:
        log.exception("rules failed on telemetry of hub %s", getattr(hub, "hub_id", "?"))
        db.rollback()
        return
    if opened:
        for wake in wakers:
            wake()
