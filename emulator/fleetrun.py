"""Many emulated hubs against one server: `python -m emulator.fleetrun [-n 200]`.

Each hub is its own CPython process (emulator.hubproc, real time: a server is in the
loop) with its own identity, flash and resident. Residents come from
routine.population(n, seed); each lives one generated day, played from `--from` (07:00)
at `--speed` (60: a minute of her life per second), and presses her panic button once
at a random moment of the run. Against the stand-in fleet (the default) each hub is
enrolled and configured here; with `--identities DIR` the hubs use the identity.cbor
files under DIR/<hub>/ (as provisioning wrote them), and the server they name (or
`--server HOST:PORT`) is whatever speaks the wire profile; it sends the configuration.
With `--fleet` the server is the real one (fleet/, `serve()` in this process) on a fresh
SQLite database under the work directory (or `--db URL`, e.g. an empty PostgreSQL
database): every hub is provisioned and claimed through its enrolment service, as a
technician and a volunteer would, and its sensors registered as Sensor rows.

At the end it waits for every hub to drain its outbox, then prints the figures: hubs
that heartbeated, panics delivered (and delivered twice), messages per second, panic
latency percentiles (press sent to the hub -> stored by the server, the 30 ms debounce
included), and each hub process's memory (PSS) and CPU. The server's figures exist only
when it runs here (stand-in or `--fleet`).
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import time
from datetime import UTC
from pathlib import Path

from emulator import routine, scenario
from emulator.sensors import DEFAULT_WIRING
from emulator.standin_fleet import StandinFleet, free_udp_port, write_identity
from emulator.supervisor import Hub, provision

_KIND = {"motion": "motion", "door": "door", "bed": "bed", "panic": "panic"}
_THERMO = 0x44


def hub_sensors(flat):
    """The configuration's sensor list for the reference hub's wiring (sensors.py)."""
    out = []
    for key, w in sorted(DEFAULT_WIRING.items()):
        kind, _, room = key.partition("/")
        if kind not in _KIND:
            continue
        s = {"id": key.replace("/", "-"), "kind": kind, "room": room or "living", "flat": flat}
        out.append(dict(s, pin=w["gpio"], active=w["active"]))
    out.append({"id": "thermo", "kind": "temperature", "room": "living", "flat": flat,
                "i2c": _THERMO})  # fmt: skip
    return out


def day_window(evs, start_min, seconds, speed):
    """The events of [start_min, start_min + seconds * speed / 60) minutes of day 1,
    at `speed` times real time, as [[t_ms, op, args]] from 0."""
    t0 = start_min * 60_000
    t1 = t0 + seconds * speed * 1000
    return [[round((ev.t_ms - t0) / speed), ev.op, ev.args] for ev in evs if t0 <= ev.t_ms < t1]


def _pss_kb(pid):
    # Proportional set size: shared interpreter pages split among the processes that map
    # them, so the sum over hubs is what they really take.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def _pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def _free_tcp_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealFleet:
    """The fleet server (fleet/) in this process, with its HTTP and CoAP sides, on a
    database of its own; hubs are enrolled through fleet.services.enrolment and their
    figures read back from the database (only the hubs enrolled here are counted, so an
    already used PostgreSQL database still gives this run's figures)."""

    def __init__(self, work, db_url=None, hb=10, rd=30):
        from fleet.settings import Settings

        self.work = Path(work)
        self.settings = Settings(
            database_url=db_url or f"sqlite:///{self.work / 'fleet.db'}",
            coap_port=free_udp_port(),
            http_port=_free_tcp_port(),
            heartbeat_interval_s=hb,
            readings_interval_s=rd,
        )
        self.engine = None
        self.rows = {}  # hub id -> Hub row id
        self._stop = None
        self._server = None
        self._admin = self._condo = None

    def _db(self):
        from fleet.db import session

        return session(self.engine)

    async def start(self):
        from fleet.__main__ import serve
        from fleet.db import make_engine, migrate
        from fleet.models import ADMIN, Condominium, User
        from fleet.security import hash_password

        self.work.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(migrate, self.settings.database_url)
        self.engine = make_engine(self.settings.database_url)
        tag = secrets.token_hex(4)
        with self._db() as db:
            # Nobody logs in as this user: its password is random and never shown.
            admin = User(email=f"fleetrun-{tag}@example.invalid", name="fleetrun", role=ADMIN,
                         password_hash=hash_password(secrets.token_urlsafe(16)))  # fmt: skip
            condo = Condominium(name=f"fleetrun {tag}")
            db.add_all([admin, condo])
            db.commit()
            self._admin, self._condo = admin, condo.id
        self._stop = asyncio.Event()
        self._server = asyncio.ensure_future(serve(self.settings, self.engine, self._stop))
        return self.settings.coap_port

    def enrol(self, flat_label, sensors, **identity):
        """Provision a hub as a technician does, claim it into the run's condominium, and
        register its sensors in a new flat; returns (hub id, identity map)."""
        from fleet.models import Flat
        from fleet.services import enrolment

        s = self.settings
        with self._db() as db:
            flat = Flat(condominium_id=self._condo, label=flat_label)
            db.add(flat)
            db.flush()
            made = enrolment.set_up(db, s, self._admin, self._admin, self._condo, flat.id, sensors,
                                    "fleetrun", host="127.0.0.1", port=s.coap_port,
                                    ssid="portineria", wkey="", **identity)  # fmt: skip
        self.rows[made.hub.hub_id] = made.hub.id
        return made.hub.hub_id, made.identity

    async def stop(self):
        if self._server is not None:
            self._stop.set()
            await self._server
            self._server = None
        if self.engine is not None:
            self.engine.dispose()

    # --- what the server stored, for this run's hubs --------------------------------------

    def health(self):
        """{hub id: (state, uptime_s, queue_depth, last_error)}, the last three from the
        hub's latest heartbeat (None for a hub that never heartbeated)."""
        from sqlmodel import select

        from fleet.models import Hub

        with self._db() as db:
            rows = db.exec(select(Hub).where(Hub.id.in_(list(self.rows.values())))).all()
        return {h.hub_id: (h.state, h.uptime_s, h.queue_depth, h.last_error) for h in rows}

    def panics(self):
        """{hub id: [wall time (s) each stored panic press was received]}."""
        from sqlmodel import select

        from fleet.models import Event, Hub, TelemetryReceipt

        ids = list(self.rows.values())
        out = {h: [] for h in self.rows}
        same_record = (TelemetryReceipt.hub_id == Event.hub_id) & (
            TelemetryReceipt.seq == Event.seq
        )
        with self._db() as db:
            rows = db.exec(
                select(Hub.hub_id, TelemetryReceipt.received_at)
                .join(Event, Event.hub_id == Hub.id)
                .join(TelemetryReceipt, same_record)
                .where(Event.hub_id.in_(ids), Event.kind == "panic", Event.state.is_(True))
            ).all()
        for hub_id, at in rows:
            if at.tzinfo is None:  # SQLite hands back naive UTC
                at = at.replace(tzinfo=UTC)
            out[hub_id].append(at.timestamp())
        return out

    def stored(self):
        """(events, readings, packs) stored for this run's hubs."""
        from sqlalchemy import func
        from sqlmodel import select

        from fleet.models import Event, Reading, TelemetryReceipt

        ids = list(self.rows.values())
        with self._db() as db:
            return tuple(
                db.exec(select(func.count()).select_from(m).where(m.hub_id.in_(ids))).one()
                for m in (Event, Reading, TelemetryReceipt)
            )


class FleetRun:
    def __init__(self, work, n=200, seed=1, seconds=60.0, speed=60.0, start="07:00", hb=10,
                 identities=None, server=None, ack=1000, real=False, db_url=None):  # fmt: skip
        self.work = Path(work)
        self.n = n
        self.seed = seed
        self.seconds = seconds
        self.speed = speed
        h, m = start.split(":")
        self.start_min = int(h) * 60 + int(m)
        self.hb = hb
        self.identities = None if identities is None else Path(identities)
        self.server = server
        self.ack = ack
        self.real = real  # the real fleet server (RealFleet) rather than the stand-in
        self.db_url = db_url
        self.fleet = None
        self.hubs = {}  # hub id -> supervisor.Hub
        self.started = {}  # hub id -> time.monotonic() of its process start
        self.played = {}  # hub id -> events sent to its world
        self.pressed = {}  # hub id -> time.monotonic() the panic press was sent
        self.pressed_wall = {}  # the same instant as time.time(): the database's clock
        self._counted = 0  # the server's message count when the run started (--fleet)
        self._all_started = None  # an asyncio.Event, set once every hub has started
        self.samples = {}  # hub id -> (pss kB, cpu s)
        self.exited = []  # hubs whose process had ended before the run did
        self.lived = {}  # hub id -> time.monotonic() its window was over

    # --- set-up ------------------------------------------------------------------------

    def _hub_ids(self):
        if self.real:
            return [None] * self.n  # the fleet names its hubs at provisioning
        if self.identities is None:
            return [f"hub-{i:04d}" for i in range(self.n)]
        names = sorted(d.name for d in self.identities.iterdir() if (d / "identity.cbor").exists())
        return names[: self.n]

    async def provision(self):
        shutil.rmtree(self.work, ignore_errors=True)
        port = None
        if self.real:
            self.fleet = RealFleet(self.work / "fleet", self.db_url, hb=self.hb)
            await self.fleet.start()
        elif self.identities is None:
            self.fleet = StandinFleet(self.work / "fleet")
            port = await self.fleet.start()
        people = routine.population(self.n, self.seed)
        for i, hub_id in enumerate(self._hub_ids()):
            if self.real:
                hub_id, ident = self.fleet.enrol(f"F{i}", hub_sensors(f"F{i}"), ack=self.ack)
            d = provision(
                self.work / hub_id,
                uid=f"240ac4{i:06x}",
                wlan={"ssid": "portineria", "key": "", "assoc_ms": 200},
                i2c={hex(_THERMO): "sht3x"},
            )
            flash = d / "flash"
            if self.real:
                write_identity(flash, ident)
            elif self.fleet is not None:
                ident = self.fleet.enrol(hub_id, port=port, ack=self.ack)
                write_identity(flash, ident)
                self.fleet.set_config(hub_id, hub_sensors(f"F{i}"), hb=self.hb, rd=300)
            else:
                shutil.copy(self.identities / hub_id / "identity.cbor", flash)
                if self.server is not None:
                    self._point_at(flash, self.server)
            sc = routine.generate(people[i], days=1, seed=self.seed * 100_000 + i)
            evs = scenario.events(sc)
            self.played[hub_id] = day_window(evs, self.start_min, self.seconds, self.speed)
            self.hubs[hub_id] = Hub(d, real_time=True)

    @staticmethod
    def _point_at(flash, server):
        from protocol import cbor

        host, _, port = server.rpartition(":")
        fields = cbor.loads((flash / "identity.cbor").read_bytes())
        fields.update(host=host, port=int(port))
        write_identity(flash, fields)

    # --- the run -------------------------------------------------------------------------

    async def _start_all(self, rate):
        # Staggered: a burst of interpreter start-ups would starve the running hubs.
        for hub_id, hub in self.hubs.items():
            hub.start()
            self.started[hub_id] = time.monotonic()
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(2.0)  # the last ones' imports and first exchanges
        self._all_started.set()

    async def _live(self, hub_id, rng):
        hub = self.hubs[hub_id]
        while hub_id not in self.started:
            await asyncio.sleep(0.1)
        await self._configured(hub)
        if not hub.running():
            return
        at = time.monotonic() - self.started[hub_id] + 0.5
        hub.send("script", events=self.played[hub_id], at=at)
        end = time.monotonic() + self.seconds + 1.0  # her window, and a second to settle
        # The press comes once every hub has started, spread over the next half window: a
        # burst of interpreter start-ups saturates the cores, and the latency measured then
        # would be the start-up's, not the system's.
        await self._all_started.wait()
        await asyncio.sleep(rng.uniform(0.05, 0.5) * self.seconds)
        if hub.running():
            self.pressed[hub_id] = time.monotonic()
            self.pressed_wall[hub_id] = time.time()
            hub.send("press_panic")
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        self.lived[hub_id] = time.monotonic()

    async def _configured(self, hub):
        # The hub logs its configuration once it has fetched and applied it.
        while hub.running() and "configuration " not in hub.console():
            await asyncio.sleep(0.2)

    def _sample(self):
        for hub_id, hub in self.hubs.items():
            if hub.running():
                self.samples[hub_id] = (_pss_kb(hub.proc.pid), _cpu_s(hub.proc.pid))

    def _drained(self):
        """Every hub's latest heartbeat, sent after its window, says its outbox is empty."""
        if self.real:
            health = self.fleet.health()
            for hub_id in self.hubs:
                _, up, depth, _ = health.get(hub_id, (None, None, None, None))
                if up is None or depth != 0:
                    return False
                # Its uptime dates the heartbeat (a little early: the clock starts after
                # the process does).
                if hub_id in self.lived and self.started[hub_id] + up < self.lived[hub_id]:
                    return False
            return True
        last = {}
        for hub_id, beat, at in self.fleet.heartbeats:
            last[hub_id] = (beat, at)
        for hub_id in self.hubs:
            if hub_id not in last or last[hub_id][0].get(4) != 0:
                return False
            if hub_id in self.lived and last[hub_id][1] < self.lived[hub_id]:
                return False
        return True

    async def run(self, start_rate=20.0, drain_s=30.0):
        """Start every hub, live the window, wait for the outboxes to drain; returns the
        wall-clock seconds from the first start to the end of the window."""
        rng = random.Random(self.seed)
        self._all_started = asyncio.Event()
        self._counted = _messages() if self.real else 0
        t0 = time.monotonic()
        starter = asyncio.ensure_future(self._start_all(start_rate))
        lives = [asyncio.ensure_future(self._live(h, rng)) for h in self.hubs]
        try:
            await starter
            await asyncio.wait(lives, timeout=self.seconds + 120)
            self._sample()
            if self.real:
                await _until(self._drained, drain_s + 2 * self.hb)
            elif self.fleet is not None:
                await self.fleet.wait_for(self._drained, drain_s + 2 * self.hb)
            else:
                await asyncio.sleep(drain_s)
            self._sample()
            self.exited = sorted(h for h, hub in self.hubs.items() if not hub.running())
        finally:
            for t in lives:
                t.cancel()
            for hub in self.hubs.values():
                hub.power_cut()
            if self.fleet is not None:
                await self.fleet.stop()
        return time.monotonic() - t0

    # --- figures -----------------------------------------------------------------------

    def report(self, elapsed):
        r = {"hubs": len(self.hubs), "elapsed_s": round(elapsed, 1)}
        pss = [p for p, _ in self.samples.values()]
        cpu = [c for _, c in self.samples.values()]
        r["pss_mb_per_hub"] = round(sum(pss) / max(1, len(pss)) / 1024, 1)
        r["pss_mb_total"] = round(sum(pss) / 1024)
        r["cpu_s_per_hub"] = round(sum(cpu) / max(1, len(cpu)), 2)
        r["events_played"] = sum(len(v) for v in self.played.values())
        r["exited"] = self.exited
        f = self.fleet
        if f is None:
            return r
        if self.real:
            return self._report_real(r, elapsed)
        beats = {h for h, _, _ in f.heartbeats}
        r["heartbeated"] = len(beats & set(self.hubs))
        r["heartbeats"] = len(f.heartbeats)
        r["records"] = len(f.records)
        r["repeats"] = sum(f.repeats.values())
        r["messages_per_s"] = round((len(f.heartbeats) + len(f.records)) / elapsed, 1)
        lat = []
        for h, t in self.pressed.items():
            for seq, _ in f.events(h, "panic"):
                lat.append((f.arrival(h, seq) - t) * 1000)
        r["panics_pressed"] = len(self.pressed)
        r["panics_stored"] = sum(len(f.events(h, "panic")) for h in self.hubs)
        for p in (50, 90, 99, 100):
            r[f"panic_ms_p{p}"] = round(_pct(lat, p), 1)
        return r

    def _report_real(self, r, elapsed):
        f = self.fleet
        health = f.health()
        r["online"] = sum(1 for h in health.values() if h[0] == "online")
        r["heartbeated"] = sum(1 for h in health.values() if h[1] is not None)
        errors = {}  # the hubs' own last errors (uplink timeouts, ...): what to look at first
        for h in health.values():
            if h[3]:
                errors[h[3]] = errors.get(h[3], 0) + 1
        r["hub_errors"] = errors
        events, readings, packs = f.stored()
        r["events_stored"], r["readings_stored"], r["packs_stored"] = events, readings, packs
        msgs = _messages() - self._counted
        r["messages"] = msgs
        r["messages_per_s"] = round(msgs / elapsed, 1)
        panics = f.panics()
        r["panics_pressed"] = len(self.pressed)
        r["panics_stored"] = sum(len(v) for v in panics.values())
        r["panics_stored_twice"] = sorted(h for h, v in panics.items() if len(v) > 1)
        lat = [(at - self.pressed_wall[h]) * 1000 for h, v in panics.items() if h in
               self.pressed_wall for at in v]  # fmt: skip
        for p in (50, 90, 99, 100):
            r[f"panic_ms_p{p}"] = round(_pct(lat, p), 1)
        return r


def _messages():
    """Authenticated requests the fleet server in this process has answered so far."""
    from fleet import metrics

    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.received.lines() if line[0] != "#")


async def _until(predicate, timeout):
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        await asyncio.sleep(0.5)


def _parse(argv):
    ap = argparse.ArgumentParser(prog="python -m emulator.fleetrun")
    ap.add_argument("-n", type=int, default=200, help="hubs (default 200)")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the lived window")
    ap.add_argument("--speed", type=float, default=60.0, help="resident's time per real second")
    ap.add_argument("--from", dest="start", default="07:00", help="time of day the window opens")
    ap.add_argument("--hb", type=int, default=10, help="heartbeat interval (a server run here)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="var/fleetrun", help="hub directories go here (wiped)")
    ap.add_argument("--identities", help="DIR/<hub>/identity.cbor per hub: a real server")
    ap.add_argument("--server", help="HOST:PORT overriding the identities' fleet address")
    ap.add_argument("--fleet", action="store_true", help="the real fleet server, run here")
    ap.add_argument("--db", help="with --fleet: database URL (default: SQLite under --work)")
    ap.add_argument("--rate", type=float, default=20.0, help="hub starts per second")
    return ap.parse_args(argv)


async def _main(a):
    run = FleetRun(a.work, a.n, a.seed, a.seconds, a.speed, a.start, a.hb, a.identities,
                   a.server, real=a.fleet, db_url=a.db)  # fmt: skip
    await run.provision()
    print(f"{len(run.hubs)} hubs provisioned in {a.work}; running {a.seconds:g} s", flush=True)
    elapsed = await run.run(a.rate)
    return run.report(elapsed)


def main(argv=None):
    a = _parse(argv)
    try:
        report = asyncio.run(_main(a))
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as e:  # a user's mistake: a sentence, not a traceback
        raise SystemExit(f"fleetrun: {e}") from None
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
