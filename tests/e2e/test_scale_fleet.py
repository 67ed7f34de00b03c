"""Many emulated hubs against the REAL fleet server (fleet/, in this process, on a fresh
SQLite database), each provisioned and claimed through the enrolment service with its
sensors registered: every hub comes online and heartbeats, its resident's morning is
stored, each panic press is stored exactly once (Event rows), and every hub's last
heartbeat says its outbox is empty. About 30 s."""

from sqlmodel import select

from emulator.fleetrun import FleetRun
from fleet import metrics
from fleet.models import Event, Sensor

N = 12


def _rejected():
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.rejected.lines() if line[0] != "#")


async def test_hubs_against_the_real_fleet_store_every_panic_once(tmp_path):
    run = FleetRun(tmp_path / "run", n=N, seed=5, seconds=12, speed=120, hb=3, ack=500, real=True)
    await run.provision()
    rejected = _rejected()
    elapsed = await run.run(start_rate=10, drain_s=20)
    r = run.report(elapsed)
    print(r)
    assert r["exited"] == []
    assert run._drained()  # every hub's last heartbeat: outbox empty, after its window
    assert r["online"] == N and r["heartbeated"] == N
    assert r["panics_pressed"] == N and r["panics_stored"] == N
    assert r["panics_stored_twice"] == []
    assert _rejected() == rejected  # no pack, heartbeat or datagram refused
    fleet = run.fleet
    with fleet._db() as db:
        for hub_id, evs in run.played.items():
            row = fleet.rows[hub_id]
            panics = db.exec(select(Event).where(Event.hub_id == row, Event.kind == "panic")).all()
            assert [e.state for e in panics] == [True], hub_id
            # Her morning reached the database: a motion event for each room she was seen
            # in, from the sensor registered for that room.
            rooms = {a["room"] for _, op, a in evs if op == "motion"}
            got = db.exec(
                select(Sensor.room)
                .join(Event, Event.sensor_id == Sensor.id)
                .where(Event.hub_id == row, Event.kind == "motion")
            ).all()
            assert set(got) == rooms, (hub_id, evs)
    assert r["panic_ms_p99"] < 1000
