"""200 emulated hubs (one CPython process each, real time) against the real fleet server
(fleet/, in this process, on a fresh SQLite database; `--db URL` for PostgreSQL), each
provisioned and claimed through the enrolment service: hubs online, messages/s, telemetry
stored, panic delivery latency percentiles, memory and CPU per hub.

    .venv/bin/python -m tests.bench.bench_fleet_scale [-n 200] [--seconds 60] [--standin]

The same as `python -m emulator.fleetrun --fleet`, with the figures laid out; --standin
runs against the stand-in fleet instead."""

import argparse
import asyncio
import os
import tempfile
import time

from emulator.fleetrun import FleetRun


async def main(n, seconds, hb, rate, real, db_url):
    with tempfile.TemporaryDirectory() as d:
        run = FleetRun(d, n=n, seed=1, seconds=seconds, speed=60, hb=hb, ack=1000, real=real,
                       db_url=db_url)  # fmt: skip
        await run.provision()
        cpu0 = os.times()
        elapsed = await run.run(start_rate=rate, drain_s=60)
        cpu1 = os.times()
        r = run.report(elapsed)
    server = "the fleet server" if real else "the stand-in fleet"
    print(f"{r['hubs']} hubs against {server}, {elapsed:.0f} s wall, heartbeat every {hb} s")
    if real:
        print(f"hubs online, heartbeated    {r['online']}, {r['heartbeated']}  "
              f"(exited early: {len(r['exited'])})")  # fmt: skip
        print(f"messages answered           {r['messages']:.0f}")
        print(f"telemetry stored            {r['packs_stored']} packs: {r['events_stored']} "
              f"events, {r['readings_stored']} readings")  # fmt: skip
        print(f"panics stored twice         {len(r['panics_stored_twice'])}")
        print(f"hubs' last errors           {r['hub_errors'] or 'none'}")
    else:
        print(f"hubs that heartbeated       {r['heartbeated']}  (exited early: {len(r['exited'])})")
        print(f"heartbeats, records stored  {r['heartbeats']}, {r['records']} "
              f"(repeats {r['repeats']})")  # fmt: skip
    print(f"messages per second         {r['messages_per_s']}")
    print(f"panics pressed / stored     {r['panics_pressed']} / {r['panics_stored']}")
    print("panic press -> stored, ms   p50 {panic_ms_p50}  p90 {panic_ms_p90}  "
          "p99 {panic_ms_p99}  max {panic_ms_p100}".format(**r))  # fmt: skip
    print(f"memory per hub (PSS)        {r['pss_mb_per_hub']} MB, all hubs {r['pss_mb_total']} MB")
    print(f"CPU per hub                 {r['cpu_s_per_hub']} s over the run")
    fleet_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(f"fleet + runner CPU          {fleet_cpu:.1f} s ({fleet_cpu / elapsed:.0%} of a core)")
    print(f"load average                {os.getloadavg()[0]:.1f} at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--hb", type=int, default=10)
    ap.add_argument("--rate", type=float, default=10, help="hub starts per second")
    ap.add_argument("--standin", action="store_true", help="the stand-in fleet, not fleet/")
    ap.add_argument("--db", help="database URL for the fleet server (default: fresh SQLite)")
    a = ap.parse_args()
    asyncio.run(main(a.n, a.seconds, a.hb, a.rate, not a.standin, a.db))
