"""Service figures in the terms telecare services use, over a window of time:

    figures(db, start, end) -> {"critical": n, "acked_60s": share, "acked_180s": share,
                                "median_ack_s": s, "false_alarms": n,
                                "resident_days": d, "false_alarm_rate": per resident-day}

Shares are of the critical alerts opened in the window (None when there were none); an
alert never acknowledged counts against them. The false-alarm rate is the alerts closed
as FALSE_ALARM in the window per resident-day (residents on record for the window).
"""

from statistics import median

from sqlalchemy import func
from sqlmodel import select

from fleet.api.deps import as_utc
from fleet.models import FALSE_ALARM, Alert, Resident
from fleet.rules import CRITICAL


def figures(db, start, end):
    critical = db.exec(
        select(Alert).where(
            Alert.severity == CRITICAL, Alert.opened_at >= start, Alert.opened_at < end
        )
    ).all()
    delays = [
        (as_utc(a.acknowledged_at) - as_utc(a.opened_at)).total_seconds()
        for a in critical
        if a.acknowledged_at is not None
    ]
    n = len(critical)
    false_alarms = db.exec(
        select(func.count(Alert.id)).where(
            Alert.resolution == FALSE_ALARM, Alert.resolved_at >= start, Alert.resolved_at < end
        )
    ).one()
    residents = db.exec(select(func.count(Resident.id))).one()
    resident_days = residents * (end - start).total_seconds() / 86400
    return {
        "critical": n,
        "acked_60s": sum(d <= 60 for d in delays) / n if n else None,
        "acked_180s": sum(d <= 180 for d in delays) / n if n else None,
        "median_ack_s": median(delays) if delays else None,
        "false_alarms": false_alarms,
        "resident_days": resident_days,
        "false_alarm_rate": false_alarms / resident_days if resident_days else None,
    }
