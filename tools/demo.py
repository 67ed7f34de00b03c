"""`./dev demo`: the fleet server on SQLite with demo data, and emulated hubs reporting
to it — the unchanged firmware, one process each, over CoAP and OSCORE on 127.0.0.1.

Three hubs are provisioned and claimed as a technician and a volunteer would, their
sensors registered, and then residents move about, a door opens, and a panic button is
pressed during a network outage: it is queued on the hub's flash and still arrives,
once — and opens an alert for her caregivers. The server keeps running (Ctrl-C stops
everything): log in to its web pages with the printed logins.

A dev script behind ./dev, not a `portineria` command (so argparse, not typer): it needs
the checkout (emulator/, var/demo) and is never installed or run against a real hub.
"""

import argparse
import asyncio
import os
import shutil
import socket
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "demo"
SENSORS = [  # the reference hub's wiring
    {"id": "panic", "kind": "panic", "room": "living", "pin": 4, "active": 0},
    {"id": "door", "kind": "door", "room": "entrance", "pin": 5, "active": 1},
    {"id": "pir-k", "kind": "motion", "room": "kitchen", "pin": 12, "active": 1},
    {"id": "pir-b", "kind": "motion", "room": "bedroom", "pin": 14, "active": 1},
]


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(http_port):
    """Settings for a throwaway demo database; heartbeats every 10 s so hubs show up fast."""
    os.environ.update(
        FLEET_DATABASE_URL=f"sqlite:///{WORK}/fleet.db",
        FLEET_COAP_PORT=str(free_port(socket.SOCK_DGRAM)),
        FLEET_HTTP_PORT=str(http_port),
        FLEET_PUBLIC_URL=f"http://127.0.0.1:{http_port}",
        FLEET_HEARTBEAT_INTERVAL_S="10",
    )
    from fleet.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


def enrol_hubs(db, settings, relay_port):
    """Provision three hubs as the technician, claim them as the volunteer, and register
    their sensors in three flats; returns [(hub_id, flat label, resident, identity)]."""
    from sqlmodel import select

    from fleet.models import Flat, Resident, User, VolunteerCondominium
    from fleet.services import enrolment

    tech = db.exec(select(User).where(User.role == "technician")).one()
    vol = db.exec(select(User).where(User.role == "volunteer")).one()
    condo_id = (
        db.exec(select(VolunteerCondominium).where(VolunteerCondominium.user_id == vol.id))
        .one()
        .condominium_id
    )
    flats = db.exec(select(Flat).where(Flat.condominium_id == condo_id).order_by(Flat.id)).all()[:3]
    hubs = []
    for flat in flats:
        made = enrolment.set_up(
            db, settings, tech, vol, condo_id, flat.id, SENSORS, "demo",
            port=relay_port, ssid="portineria", wkey="", ack=500,
        )  # fmt: skip
        resident = db.exec(select(Resident).where(Resident.flat_id == flat.id)).first()
        hubs.append((made.hub.hub_id, flat.label, resident.name if resident else "", made.identity))
    return hubs


def open_alerts(engine):
    from sqlmodel import select

    from fleet.db import session
    from fleet.models import Alert, Resident

    with session(engine) as db:
        rows = db.exec(
            select(Alert, Resident.name).join(Resident).where(Alert.resolved_at.is_(None))
        ).all()
    return [(name, a.rule, a.severity, a.state) for a, name in rows]


def stored_events(engine, since_id):
    from sqlmodel import select

    from fleet.db import session
    from fleet.models import Event, Hub

    with session(engine) as db:
        rows = db.exec(
            select(Event, Hub.hub_id).join(Hub).where(Event.id > since_id).order_by(Event.id)
        ).all()
    return [(e.id, hub_id, e.kind, e.state, e.seq) for e, hub_id in rows]


async def wait_for(predicate, timeout):
    end = time.monotonic() + timeout
    while not (v := predicate()) and time.monotonic() < end:
        await asyncio.sleep(0.05)
    return v


async def demo(args):
    from emulator.relay import Impairment, Relay
    from emulator.standin_fleet import write_identity
    from emulator.supervisor import Hub as EmulatedHub
    from emulator.supervisor import provision as make_hub_dir
    from fleet import demo as demo_data
    from fleet.__main__ import serve
    from fleet.db import make_engine, migrate, session

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    settings = configure(args.port)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    with session(engine) as db:
        logins = demo_data.seed(db)
    # The hubs reach the fleet through a relay, so the demo can cut the network.
    relay = Relay(("127.0.0.1", settings.coap_port), Impairment(loss=0.05), seed=1)
    _, relay_port = await relay.start()
    with session(engine) as db:
        hubs = enrol_hubs(db, settings, relay_port)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(settings, engine, stop))
    emulated, who = {}, {}
    for hub_id, flat, resident, identity in hubs:
        d = make_hub_dir(WORK / hub_id, wlan={"ssid": "portineria", "key": "", "assoc_ms": 100})
        write_identity(d / "flash", identity)
        emulated[hub_id] = EmulatedHub(d, real_time=True)
        emulated[hub_id].start()
        who[hub_id] = f"{resident} ({flat})"
    first, maria = hubs[0][0], hubs[-1][0]
    try:
        print(
            f"Fleet server: http://127.0.0.1:{args.port}/ (web), /docs (API), CoAP on udp/{settings.coap_port}"
        )
        configured = lambda: all("configuration" in h.console() for h in emulated.values())  # noqa: E731
        if not await wait_for(configured, 60):
            raise SystemExit("demo: the hubs did not reach the fleet; see var/demo/*/console")
        print("Three hubs provisioned, claimed, online and configured over OSCORE.\n")
        emulated[first].send("motion", room="kitchen")
        emulated[hubs[1][0]].send("door", room="entrance", opened=True)
        await wait_for(lambda: len(stored_events(engine, 0)) >= 2, 15)
        seen = show(stored_events(engine, 0), who)
        print(
            f"\nThe network to the fleet goes down for 8 s; {who[maria]} presses the panic button."
        )
        now = asyncio.get_running_loop().time() - relay._t0
        relay.imp.outages.append((now, now + 8))
        pressed = time.monotonic()
        emulated[maria].send("press_panic")
        panic = lambda: [e for e in stored_events(engine, seen) if e[2] == "panic"]  # noqa: E731
        if await wait_for(panic, 40):
            print(f"  … {time.monotonic() - pressed:.1f} s after the press:")
            seen = show(stored_events(engine, seen), who)
            print("  Stored once, however many times the hub had to send it.")
            for name, rule, severity, state in (
                await wait_for(lambda: open_alerts(engine), 10) or []
            ):
                print(
                    f"  Alert for {name}: {rule} ({severity}), {state}; the people who look after her are being notified."
                )
        print(
            f"\nDashboard: http://127.0.0.1:{args.port}/ — log in as (new passwords every start):"
        )
        for role, email, password in logins:
            print(f"  {role:<10} {email:<34} {password}")
        if not args.once:
            print("\nRunning; Ctrl-C stops the server and the hubs.")
            await server
    finally:
        for hub in emulated.values():
            hub.power_cut()
        relay.close()
        stop.set()
        await server
        engine.dispose()


def show(events, who):
    last = 0
    for eid, hub_id, kind, state, seq in events:
        flag = "  ← EMERGENCY" if kind == "panic" else ""
        print(
            f"  stored  {who.get(hub_id, hub_id):28s} {kind:8s} {state!s:6s} (record {seq}){flag}"
        )
        last = eid
    return last


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./dev demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="HTTP port of the fleet server")
    parser.add_argument("--once", action="store_true", help="stop after the scripted part")
    args = parser.parse_args(argv)
    print("\n\n".join(__doc__.split("\n\n")[:2]))  # what the demo shows, not the note
    try:
        asyncio.run(demo(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
