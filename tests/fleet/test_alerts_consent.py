"""Consent (GDPR): watching a resident's day needs her consent on record. Without it her
rules raise no wellbeing alert (heat here), while a panic press still reaches her circle
— the press is her asking for help. Both databases."""

from fleet.db import session
from fleet.models import Resident
from protocol import senml
from tests.fleet.test_alerts import smtp, world  # noqa: F401  (fixtures)


def _consent(w, value):
    with session(w.engine) as db:
        anna = db.get(Resident, w.w.anna)
        anna.consent_date = value
        db.add(anna)
        db.commit()


def _hot_two_hours(w, start):
    w.send(senml.reading("t1", "temperature", 27.0), at=start)
    w.send(senml.reading("t1", "temperature", 27.5), at=start + 7100)


async def test_without_consent_no_wellbeing_alert_but_a_panic_still_goes_out(world, smtp):  # noqa: F811
    _consent(world, None)
    _hot_two_hours(world, 0)
    await world.tick(7200)
    assert world.alerts("heat") == [] and smtp.messages == []
    world.press(at=7300)
    assert await world.tick(7300) == 1
    [alert] = world.alerts()
    assert alert.rule == "panic"
    assert "pulsante di emergenza" in smtp.to("care@example.org")[0]["Subject"]


async def test_with_consent_the_same_heat_is_an_alert(world, smtp):  # noqa: F811
    with session(world.engine) as db:
        assert db.get(Resident, world.w.anna).consent_date is not None
    _hot_two_hours(world, 0)
    await world.tick(7200)
    assert [a.rule for a in world.alerts()] == ["heat"]
