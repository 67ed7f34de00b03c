"""An OTA campaign through the real fleet to many emulated hubs:
`python -m emulator.otarun [-n 100] [--loss 0.2]` (the benchmark is
tests/bench/bench_ota_campaign.py; tests/e2e/test_ota_campaign.py uses the same parts).

The fleet (emulator.realfleet.RealFleet: its HTTP and CoAP sides — heartbeats, telemetry,
`m`/`i`, the campaign tick) runs in this process on a fresh SQLite database (or
`db_url`). Each hub is its own CPython process (emulator.supervisor.Hub, real time),
provisioned and claimed through fleet.services.enrolment as a "cpython-linux" hub, with a
motion sensor, a panic button and an SHT3x thermometer in a flat of its own, and the
release key's public half in its ota.keys. Hubs reach the fleet through emulator.relay
(packet loss both ways); hubs named in `own_relay` get a relay of their own, without
loss, so one hub's outage leaves the others alone. Releases are built and signed with
tools/release.py and stored with fleet.ota.releases.upload; campaigns are
fleet.ota.campaigns, called as the REST API calls them.

Scaled for a 2-core machine: heartbeats every `hb` seconds (2), readings every `rd` (2),
CoAP ACK_TIMEOUT `ack` ms (30 under loss), the campaign tick every 0.5 s; releases are
built from a copy of firmware/ and protocol/ without docstrings or comments (`lean`:
30 % fewer bytes, the same code), since an emulated hub loads sources.
"""

import argparse
import ast
import asyncio
import json
import shutil
import time
from datetime import UTC
from pathlib import Path

from emulator.relay import Impairment, Relay
from emulator.standin_fleet import write_identity
from emulator.supervisor import RESET_EXIT_BASE, Hub, provision

ROOT = Path(__file__).resolve().parents[1]
HW = "cpython-linux"
THERMO = 0x44
SENSORS = [
    {"id": "panic", "kind": "panic", "room": "living", "pin": 4, "active": 0},
    {"id": "pir-k", "kind": "motion", "room": "kitchen", "pin": 12, "active": 1},
    {"id": "thermo", "kind": "temperature", "room": "living", "i2c": THERMO},
]


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body:
            continue
        first = body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            if isinstance(first.value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def lean(dest, replace=None):
    """Copies of firmware/ and protocol/ under `dest` with every .py file's docstrings and
    comments dropped (the same code, 30 % fewer bytes), then `replace` ({path under
    firmware/: source}) written over them: a small release, or a broken one.
    Returns (firmware dir, protocol dir)."""
    dest = Path(dest)
    out = []
    for name in ("firmware", "protocol"):
        target = dest / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        for src in target.rglob("*.py"):
            if src.name in ("boot.py", "main.py"):
                continue  # the fixed boot path: never in a bundle
            text = ast.unparse(_strip_docstrings(ast.parse(src.read_text())))
            src.write_text(text + "\n" if text else "")
        out.append(target)
    for path, text in (replace or {}).items():
        (dest / "firmware" / path).write_text(text)
    return tuple(out)


def _pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else None


class OtaRun:
    """The fleet, the relays and `n` emulated hubs, set up by start() and ended by stop()."""

    def __init__(self, work, n, loss=0.2, hb=2, rd=2, ack=30, seed=1, db_url=None,
                 own_relay=(), start_rate=20.0):  # fmt: skip
        self.work = Path(work)
        self.n = n
        self.loss = loss
        self.hb, self.rd, self.ack = hb, rd, ack
        self.seed = seed
        self.db_url = db_url  # None: SQLite under work/fleet
        self.own_relay = set(own_relay)  # hub indexes with a loss-free relay of their own
        self.start_rate = start_rate
        self.key = None
        self.fleet = None  # emulator.realfleet.RealFleet: the fleet's servers, in this process
        self.settings = self.engine = None
        self.relay = None
        self.relays = {}  # hub index -> its own Relay
        self.hubs = {}  # hub id (public) -> supervisor.Hub
        self.index = {}  # hub id -> its index 0..n-1
        self.resets = {}  # hub id -> [time.time() of each reset the hub did by itself]
        self.tech = None  # the admin who provisions, claims and runs campaigns
        self._keeper = None

    def db(self):
        from fleet.db import session

        return session(self.engine)

    # --- set-up ------------------------------------------------------------------------

    async def start(self):
        from emulator.realfleet import RealFleet
        from tools import release

        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.key = release._ed25519().Ed25519PrivateKey.generate()
        trusted = release.trusted_keys([release.public_bytes(self.key)])
        (self.work / "ota.keys").write_bytes(trusted)  # the fleet's list: public keys only
        self.fleet = RealFleet(self.work / "fleet", self.db_url, hb=self.hb, rd=self.rd,
                               ota_tick_s=0.5, release_keys=str(self.work / "ota.keys"))  # fmt: skip
        port = await self.fleet.start()
        self.settings, self.engine = self.fleet.settings, self.fleet.engine
        self.tech = self.fleet.admin
        self.relay = Relay(("127.0.0.1", port), Impairment(loss=self.loss), seed=self.seed)
        _, shared_port = await self.relay.start()
        for i in range(self.n):
            relay_port = shared_port
            if i in self.own_relay:
                own = Relay(("127.0.0.1", port), Impairment(), seed=self.seed + i)
                _, relay_port = await own.start()
                self.relays[i] = own
            hub_id, identity = self.fleet.enrol(f"F{i}", SENSORS, port=relay_port, hardware=HW,
                                                ack=self.ack)  # fmt: skip
            d = provision(
                self.work / hub_id,
                uid=f"240ac4{i:06x}",
                wlan={"ssid": "portineria", "key": "", "assoc_ms": 100},
                i2c={hex(THERMO): "sht3x"},
            )
            write_identity(d / "flash", identity)
            (d / "flash" / "ota.keys").write_bytes(trusted)  # as provisioning does
            self.hubs[hub_id] = Hub(d, real_time=True)
            self.index[hub_id] = i
            self.resets[hub_id] = []
        for hub in self.hubs.values():
            # Staggered: a burst of interpreter start-ups would starve the running hubs.
            hub.start()
            await asyncio.sleep(1 / self.start_rate)
        self._keeper = asyncio.ensure_future(self._keep_running())

    async def _keep_running(self):
        # What a hub's power supply does: after a reset, the chip starts again.
        while True:
            await asyncio.sleep(0.05)
            for hub_id, hub in self.hubs.items():
                code = hub.proc.poll() if hub.proc is not None else None
                if code is not None and code > RESET_EXIT_BASE:
                    self.resets[hub_id].append(time.time())
                    hub.start(code - RESET_EXIT_BASE)

    async def until(self, predicate, timeout, poll=0.5):
        """True once predicate() is, False after `timeout` seconds."""
        end = time.monotonic() + timeout
        while True:
            if await asyncio.to_thread(predicate):
                return True
            if time.monotonic() > end:
                return False
            await asyncio.sleep(poll)

    def versions(self):
        """{hub id: firmware version its last heartbeat named ("" before any)}."""
        from sqlmodel import select

        from fleet.models import Hub as HubRow

        with self.db() as db:
            rows = db.exec(
                select(HubRow.hub_id, HubRow.firmware_version).where(
                    HubRow.id.in_(list(self.fleet.rows.values()))
                )
            ).all()
        return dict(rows)

    async def all_online(self, version, timeout=60):
        return await self.until(
            lambda: all(v == version for v in self.versions().values()), timeout
        )

    # --- releases and campaigns ----------------------------------------------------------

    def release(self, version, seq, firmware=None, protocol=None, trial=(2, 120)):
        """Build, sign and store a release; returns (Release row id, bundle bytes)."""
        from fleet.ota import releases
        from tools import release

        manifest, bundle, _ = release.build(self.key, version, seq, HW, firmware=firmware,
                                            protocol=protocol, trial=trial)  # fmt: skip
        with self.db() as db:
            rel = releases.upload(db, self.settings, manifest, bundle, self.tech)
            return rel.id, manifest, bundle

    def campaign(self, release_id, **kw):
        """Create and start a campaign (kw as campaigns.create); returns its id."""
        from fleet.ota import campaigns

        with self.db() as db:
            c = campaigns.create(db, self.tech, release_id, **kw)
            campaigns.start(db, self.tech, c.id)
            return c.id

    def summary(self, campaign_id):
        """campaigns.summary() with the deployments keyed by the hubs' public ids."""
        from fleet.ota import campaigns

        names = {row: hub_id for hub_id, row in self.fleet.rows.items()}
        with self.db() as db:
            s = campaigns.summary(db, campaign_id)
            for d in s["deployments"]:
                db.expunge(d)
            db.expunge(s["campaign"])
        s["by_hub"] = {names[d.hub_id]: d for d in s["deployments"]}
        return s

    async def settled(self, campaign_id, timeout, states=("finished", "paused", "cancelled")):
        """Wait until the campaign is in one of `states`; returns its summary."""
        await self.until(lambda: self.summary(campaign_id)["campaign"].state in states, timeout)
        return self.summary(campaign_id)

    def outage(self, hub_id, seconds):
        """The hub's own relay drops everything both ways from now for `seconds`."""
        relay = self.relays[self.index[hub_id]]
        now = asyncio.get_running_loop().time() - relay._t0
        relay.imp.outages.append((now, now + seconds))

    # --- figures -------------------------------------------------------------------------

    def monitoring_gaps(self, hub_ids=None):
        """{hub id: seconds between the last reading the hub took before its reset into the
        new version and the first it took after}, by the hub's own timestamps (Reading.t):
        the monitoring the update cost, seen from the hub."""
        from sqlmodel import select

        from fleet.models import Reading

        gaps = {}
        with self.db() as db:
            for hub_id in hub_ids or self.hubs:
                if not self.resets[hub_id]:
                    continue
                cut = self.resets[hub_id][0]
                ts = db.exec(
                    select(Reading.t).where(
                        Reading.hub_id == self.fleet.rows[hub_id], Reading.kind == "temperature"
                    )
                ).all()
                ts = [(t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp() for t in ts]
                before = [t for t in ts if t <= cut]
                after = [t for t in ts if t > cut]
                if before and after:
                    gaps[hub_id] = min(after) - max(before)
        return gaps

    def hub_console(self, hub_id, tail=3000):
        return self.hubs[hub_id].console()[-tail:]

    async def stop(self):
        if self._keeper is not None:
            self._keeper.cancel()
        for hub in self.hubs.values():
            hub.power_cut()
        for relay in (self.relay, *self.relays.values()):
            if relay is not None:
                relay.close()
        if self.fleet is not None:
            await self.fleet.stop()


def figures(run, s, bundle, elapsed):
    """The campaign's figures: bundle bytes, time per hub (offer to "updated", split at
    the hub's own "updated" report: download, install and trial boot, then the fleet
    waiting for the new version's telemetry), each wave's span, campaign wall time, lost
    monitoring per update (hub side), blocks served and relay losses."""
    c = s["campaign"]
    per_hub, to_report, to_confirm, waves = [], [], [], {}
    for d in s["deployments"]:
        if d.state != "updated" or d.offered_at is None:
            continue
        per_hub.append((d.updated_at - d.offered_at).total_seconds())
        if d.reported_at is not None:
            to_report.append((d.reported_at - d.offered_at).total_seconds())
            to_confirm.append((d.updated_at - d.reported_at).total_seconds())
        first, last = waves.get(d.wave, (d.offered_at, d.updated_at))
        waves[d.wave] = (min(first, d.offered_at), max(last, d.updated_at))
    gaps = list(run.monitoring_gaps().values())
    return {
        "hubs": run.n,
        "loss": run.loss,
        "bundle_bytes": len(bundle),
        "bundle_blocks": (len(bundle) + 1023) // 1024,
        "state": c.state,
        "counts": s["counts"],
        "campaign_s": round(elapsed, 1),
        "per_hub_s": _spread(per_hub),
        "offer_to_hub_report_s": _spread(to_report),
        "hub_report_to_updated_s": _spread(to_confirm),
        "wave_spans_s": {
            w["wave"]: [
                w["hubs"],
                _round((waves[w["wave"]][1] - waves[w["wave"]][0]).total_seconds()),
            ]
            for w in s["waves"]
            if w["wave"] in waves
        },
        "lost_monitoring_s": _spread(gaps),
        "blocks_served_per_hub": _round(
            sum(d.blocks for d in s["deployments"]) / max(1, len(s["deployments"]))
        ),
        "relay": dict(run.relay.stats),
    }


def _spread(xs):
    """{"p50", "p90", "max"} of xs, rounded, or None."""
    if not xs:
        return None
    return {"p50": _round(_pct(xs, 50)), "p90": _round(_pct(xs, 90)), "max": _round(max(xs))}


def _round(x):
    return None if x is None else round(x, 1)


async def _main(a):
    run = OtaRun(a.work, a.n, loss=a.loss, hb=a.hb, rd=a.rd, ack=a.ack, seed=a.seed)
    try:
        await run.start()
        if not await run.all_online("0.1.0", 60 + a.n):
            raise SystemExit("otarun: not every hub came online")
        fw, proto = lean(run.work / "release")
        rel, _, bundle = run.release("0.2.0", 2, fw, proto)
        t0 = time.monotonic()
        cid = run.campaign(rel, waves=a.waves)
        s = await run.settled(cid, a.timeout)
        return figures(run, s, bundle, time.monotonic() - t0)
    finally:
        await run.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m emulator.otarun")
    ap.add_argument("-n", type=int, default=100, help="hubs (default 100)")
    ap.add_argument("--loss", type=float, default=0.2, help="packet loss each way (0.2)")
    ap.add_argument("--hb", type=int, default=2, help="heartbeat interval, s")
    ap.add_argument("--rd", type=int, default=2, help="readings interval, s")
    ap.add_argument("--ack", type=int, default=30, help="hubs' CoAP ACK_TIMEOUT, ms")
    ap.add_argument("--waves", type=lambda s: [int(x) for x in s.split(",")],
                    default=[1, 10, 50, 100], help="cumulative percentages (1,10,50,100)")  # fmt: skip
    ap.add_argument("--timeout", type=float, default=600, help="seconds for the campaign")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="var/otarun", help="hub directories go here (wiped)")
    a = ap.parse_args(argv)
    print(json.dumps(asyncio.run(_main(a)), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
