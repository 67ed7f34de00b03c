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
when it runs here (stand-in or `--fleet`). The real server run here is
emulator.realfleet.RealFleet; the figures are worked out in emulator.fleetfigures.
"""

import argparse
import asyncio
import json
import random
import shutil
import time
from pathlib import Path

from emulator import fleetfigures, routine, scenario
from emulator.realfleet import RealFleet
from emulator.sensors import DEFAULT_WIRING
from emulator.standin_fleet import StandinFleet, write_identity
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
        self.messages_before = 0  # the server's message count when the run started (--fleet)
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
                self.samples[hub_id] = fleetfigures.usage(hub.proc.pid)

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
        self.messages_before = self.fleet.messages() if self.real else 0
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
        """The figures (emulator.fleetfigures), as a JSON-ready map."""
        return fleetfigures.report(self, elapsed)


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
