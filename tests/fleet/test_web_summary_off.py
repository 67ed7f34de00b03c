"""A morning summary turned off is stored as off (issue 7): NotificationSettings with
summary_at=None is NULL in the database, written in one plain INSERT, and the runner
sends nothing; a row made without summary_at, or no row, means 08:30 (the settings
page's first save is tested in test_summary.py). Both databases."""

from sqlalchemy import text
from sqlmodel import select

from fleet.alerts.runner import AlertRunner
from fleet.db import session
from fleet.models import SUMMARY_AT, Notification, NotificationSettings
from tests.fleet.test_alerts import smtp  # noqa: F401  (fixture)
from tests.fleet.test_summary import DAY, flat, local  # noqa: F401  (fixture)


def _stored(engine, user_id):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT summary_at FROM notificationsettings WHERE user_id = :u"), {"u": user_id}
        ).scalar_one()


def _summaries(engine):
    with session(engine) as db:
        return db.exec(select(Notification).where(Notification.alert_id.is_(None))).all()


async def test_off_is_stored_plainly_and_nothing_is_sent(flat, smtp):  # noqa: F811
    flat.usual_days()
    with session(flat.engine) as db:
        db.add(NotificationSettings(user_id=flat.w.care.id, summary_at=None))
        db.commit()
    assert _stored(flat.engine, flat.w.care.id) is None
    runner = AlertRunner(flat.settings, flat.engine)
    assert await runner.tick(local(DAY, 830)) == 0
    assert _summaries(flat.engine) == []


async def test_a_new_row_without_a_time_means_half_past_eight(flat, smtp):  # noqa: F811
    flat.usual_days()
    with session(flat.engine) as db:
        db.add(NotificationSettings(user_id=flat.w.care.id, language="en"))
        db.commit()
    assert _stored(flat.engine, flat.w.care.id) == SUMMARY_AT == 8 * 60 + 30
    runner = AlertRunner(flat.settings, flat.engine)
    assert await runner.tick(local(DAY, 825)) == 0
    assert await runner.tick(local(DAY, 830)) == 1
    assert [n.user_id for n in _summaries(flat.engine)] == [flat.w.care.id]
