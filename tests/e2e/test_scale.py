"""Many emulated hubs at once against one stand-in fleet (emulator.fleetrun), each with
its own identity and resident: every hub heartbeats, plays its morning and delivers its
panic press exactly once, and drains its outbox (its own heartbeat says so).
About 25 s."""

from emulator.fleetrun import FleetRun

N = 20


async def test_twenty_hubs_heartbeat_and_deliver(tmp_path):
    run = FleetRun(tmp_path / "run", n=N, seed=3, seconds=12, speed=120, hb=3, ack=500)
    await run.provision()
    elapsed = await run.run(start_rate=20, drain_s=20)
    r = run.report(elapsed)
    print(r)
    assert r["exited"] == []
    fleet = run.fleet
    assert run._drained()  # every hub's last heartbeat: outbox empty, after its window
    assert r["heartbeated"] == N and r["panics_pressed"] == N
    for hub_id, evs in run.played.items():
        # Each press stored once, with its resident's hub identity (its own OSCORE context).
        assert [r["vb"] for _, r in fleet.events(hub_id, "panic")] == [True]
        # What her morning did to the wired sensors reached the fleet: a motion event
        # for each room she was seen in, a door event if the door moved.
        rooms = {a["room"] for _, op, a in evs if op == "motion"}
        got = {r["n"].split(":")[-1].split("/")[0] for _, r in fleet.events(hub_id, "motion")}
        assert got == {"motion-" + room for room in rooms}, (hub_id, evs)
        if any(op == "door" for _, op, _ in evs):
            assert fleet.events(hub_id, "door"), hub_id
    assert r["panic_ms_p99"] < 1000
