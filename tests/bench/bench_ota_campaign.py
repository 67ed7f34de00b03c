"""OTA campaign at scale: `python -m tests.bench.bench_ota_campaign [-n 100] [--loss 0.2]`.

A release rolled out by the real fleet (fleet.ota, CoAP `m`/`i`, the campaign tick) in
waves 1, 10, 50, 100 % to `n` emulated hubs (each its own CPython process, real UDP and
OSCORE) behind a relay losing `loss` of the datagrams each way — emulator/otarun.py.
Prints:

- bundle bytes: the real hub's (micropython-esp32, .mpy), the full sources and the lean
  sources the emulated hubs get (docstrings and comments dropped);
- time per hub: the fleet's offer to the deployment's "updated" (new version booted,
  heartbeated, readings stored), median, 90th percentile and worst — split at the hub's
  own "updated" report (download, install, trial boot | the fleet awaiting telemetry);
- campaign wall time: start to "finished" (or whatever state it stopped in), and each
  wave's span (its first offer to its last "updated"): waves run one after another;
- lost monitoring per update, from the hub side: the gap between the last temperature
  reading the old version took and the first the new one took (Reading.t, the hub's own
  timestamps; readings every `rd` s, so the figure is within `rd` of the real gap);
  beside it measured_pause_s, fleet.ota.deployments' figure that caregivers are shown:
  the median heartbeat silence of the last few hubs updated, from the old version's go
  reply to the new version's first heartbeat (when wired alarms are watched again);
- blocks served per hub and the relay's losses.

Scaled like the e2e test: heartbeats and readings every 2 s, ACK_TIMEOUT 30 ms.
"""

import argparse
import asyncio
import json
import time
from pathlib import Path

from emulator.otarun import OtaRun, figures, lean
from fleet.ota.deployments import measured_pause_s
from tools import release


def bundle_sizes(key, work):
    fw, proto = lean(work / "lean")
    return {
        "bundle_bytes_micropython_esp32": len(release.build(key, "0.2.0", 2)[1]),
        "bundle_bytes_cpython_source": len(release.build(key, "0.2.0", 2, "cpython-linux")[1]),
        "bundle_bytes_cpython_lean": len(
            release.build(key, "0.2.0", 2, "cpython-linux", firmware=fw, protocol=proto)[1]
        ),
    }


async def campaign(a):
    run = OtaRun(a.work, a.n, loss=a.loss, hb=a.hb, rd=a.rd, ack=a.ack, seed=a.seed)
    try:
        t0 = time.monotonic()
        await run.start()
        if not await run.all_online("0.1.0", 60 + a.n):
            missing = [h for h, v in run.versions().items() if v != "0.1.0"]
            raise SystemExit(f"bench: hubs never came online: {missing}")
        setup = time.monotonic() - t0
        out = bundle_sizes(run.key, run.work)
        fw, proto = lean(run.work / "release")
        rel, _, bundle = run.release("0.2.0", 2, fw, proto)
        t0 = time.monotonic()
        cid = run.campaign(rel, waves=(1, 10, 50, 100))
        s = await run.settled(cid, a.timeout)
        for k, v in figures(run, s, bundle, time.monotonic() - t0).items():
            out[k] = v
            if k == "lost_monitoring_s":
                with run.db() as db:
                    out["measured_pause_s"] = _round(measured_pause_s(db, rel))
        out["setup_s"] = round(setup, 1)
        out["not_updated"] = {
            h: [d.state, d.result, d.detail] for h, d in s["by_hub"].items() if d.state != "updated"
        }
        return out
    finally:
        await run.stop()


def _round(x):
    return None if x is None else round(x, 1)


LEGEND = (
    "lost_monitoring_s: hub side, every hub: last reading by the old version to the first by "
    "the new (within --rd s)",
    "measured_pause_s: fleet side, what caregivers are shown: median heartbeat silence (go "
    "reply to the new version's first heartbeat) over the last few hubs updated",
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--loss", type=float, default=0.2)
    ap.add_argument("--hb", type=int, default=2)
    ap.add_argument("--rd", type=int, default=2)
    ap.add_argument("--ack", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--work", type=Path, default=Path("var/bench_ota_campaign"))
    a = ap.parse_args()
    print(json.dumps(asyncio.run(campaign(a)), indent=1))
    print("\n".join(LEGEND))


if __name__ == "__main__":
    main()
