"""The pages' one door to the alerts engine, which another part of the fleet owns. Until
it is present the pages fall back to what events alone can tell (fleet.web.status).

    open_for(db, resident_ids) -> list of open alerts, or None without an alerts engine
"""


def open_for(db, resident_ids):
    return None


def is_urgent(alert):
    return False


def rules_snapshot(db, resident_id):
    """The rules engine's saved state for a resident (Engine.snapshot()), or None."""
    return None
