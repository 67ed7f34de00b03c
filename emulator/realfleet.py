"""The fleet server (fleet/) run inside this process for emulator.fleetrun --fleet and the
scale tests: its HTTP and CoAP sides on a database of its own, hubs enrolled as a
technician and a volunteer would, and what it stored for them read back."""

import asyncio
import secrets
from datetime import UTC
from pathlib import Path

from emulator.ports import free_port, free_udp_port


class RealFleet:
    """The fleet server (fleet/) in this process, with its HTTP and CoAP sides, on a
    database of its own; hubs are enrolled through fleet.services.enrolment and their
    figures read back from the database (only the hubs enrolled here are counted, so an
    already used PostgreSQL database still gives this run's figures). `settings` are
    further fleet.settings.Settings fields (e.g. ota_tick_s)."""

    def __init__(self, work, db_url=None, hb=10, rd=30, **settings):
        from fleet.settings import Settings

        self.work = Path(work)
        self.settings = Settings(
            database_url=db_url or f"sqlite:///{self.work / 'fleet.db'}",
            coap_port=free_udp_port(),
            http_port=free_port(),
            heartbeat_interval_s=hb,
            readings_interval_s=rd,
            **settings,
        )
        self.engine = None
        self.rows = {}  # hub id -> Hub row id
        self._stop = None
        self._server = None
        self.admin = self.condo_id = None  # who enrols, and where: made by start()

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
            self.admin, self.condo_id = admin, condo.id
        self._stop = asyncio.Event()
        self._server = asyncio.ensure_future(serve(self.settings, self.engine, self._stop))
        return self.settings.coap_port

    def enrol(self, flat_label, sensors, port=None, **identity):
        """Provision a hub as a technician does, claim it into the run's condominium, and
        register its sensors in a new flat; returns (hub id, identity map). The hub talks
        to `port` on this host (default: the fleet's CoAP port; e.g. a relay's)."""
        from fleet.models import Flat
        from fleet.services import enrolment

        s = self.settings
        with self._db() as db:
            flat = Flat(condominium_id=self.condo_id, label=flat_label)
            db.add(flat)
            db.flush()
            made = enrolment.set_up(db, s, self.admin, self.admin, self.condo_id, flat.id, sensors,
                                    "fleetrun", host="127.0.0.1", port=port or s.coap_port,
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

    def messages(self):
        """Authenticated requests the fleet server in this process has answered so far."""
        from fleet import metrics

        return sum(float(ln.rsplit(" ", 1)[1]) for ln in metrics.received.lines() if ln[0] != "#")
