"""A panic is never missed because the rules hook failed: telemetry stored while the
rules raised (or while the process died before feeding them) reaches them on the next
round or with the next pack, in the order received, and only once. SQLite and
PostgreSQL."""

import pytest
from sqlmodel import select

from fleet import alerts
from fleet.alerts import engines
from fleet.alerts.runner import AlertRunner
from fleet.db import session
from fleet.models import RuleState
from protocol import senml
from tests.fleet import test_alerts

smtp, world = test_alerts.smtp, test_alerts.world  # fixtures


@pytest.fixture
def failing_once(monkeypatch):
    """The rules raise on the next pack only (as a bug or a lost connection would)."""
    real = engines.observe_stored
    calls = []

    def observe(*args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("rules broke")
        return real(*args)

    monkeypatch.setattr(engines, "observe_stored", observe)
    monkeypatch.setattr(alerts, "replay_since", None)
    return calls


async def test_a_panic_stored_while_the_rules_failed_is_raised_on_the_next_round(
    world,
    smtp,
    failing_once,
):
    world.press(at=0)  # stored and acknowledged to the hub, but the rules raised
    assert failing_once and world.alerts() == []
    assert await world.tick(2) == 1  # the round replays it and tells the caregiver
    [alert] = world.alerts("panic")
    assert alert.repeats == 0  # seen once, not once more with the next pack
    assert len(smtp.to("care@example.org")) == 1
    world.send(senml.reading("t1", "temperature", 21.0), at=5)
    [alert] = world.alerts("panic")
    assert alert.repeats == 0 and alerts.replay_since is None


async def test_the_next_pack_brings_the_missed_one_first(world, smtp, failing_once):
    world.press(at=0)
    world.press(at=10)  # the rules work again: the first press, then this one
    [alert] = world.alerts("panic")
    assert alert.repeats == 1 and alert.opened_at == world.clock.at(0)
    assert alerts.replay_since is None


async def test_a_pack_stored_just_before_a_crash_reaches_the_rules_after_restart(
    world,
    smtp,
    monkeypatch,
):
    monkeypatch.setattr(alerts, "replay_since", None)
    with monkeypatch.context() as m:
        m.setattr(engines, "observe_stored", lambda *args: [])  # died before the rules ran
        world.press(at=0)
    assert world.alerts() == []
    engines.forget_cache()
    runner = AlertRunner(world.settings, world.engine, clock=world.clock)
    await runner.start()  # a restart replays the last day
    await runner.stop()
    assert await runner.tick(world.clock.at(3)) == 1
    [alert] = world.alerts("panic")
    assert alert.repeats == 0
    with session(world.engine) as db:
        [state] = db.exec(select(RuleState)).all()
    assert engines.fed_at(state) == world.clock.at(0)  # the receipt's time


async def test_a_pack_the_rules_always_fail_on_holds_up_no_later_panic(world, smtp, monkeypatch):
    real = engines.observe_stored

    def observe(db, hub, readings, events, now):
        if any(r["kind"] == "temperature" for r in readings):
            raise RuntimeError("rules broke on this pack")
        return real(db, hub, readings, events, now)

    monkeypatch.setattr(engines, "observe_stored", observe)
    monkeypatch.setattr(alerts, "replay_since", None)
    world.send(senml.reading("t1", "temperature", 21.0), at=0)  # poisoned
    world.press(at=5)  # replays the poisoned pack first (skipped, logged), then this one
    [alert] = world.alerts("panic")
    assert alert.opened_at == world.clock.at(5)
    assert await world.tick(6) == 1 and alerts.replay_since is None
