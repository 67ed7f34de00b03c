"""The fleet's CoAP endpoint: an aiocoap server with aiocoap's own OSCORE, contexts from
the database (context.py), the datagram guard (guard.py) and the hub resources
(resources.py), plus the periodic health sweep and OTA campaign tick.

    server = CoapServer(settings, engine)
    await server.start()            # binds settings.coap_host:coap_port (port 0: any)
    server.port                     # the bound port
    await server.stop()

It runs on the caller's event loop, beside uvicorn in `python -m fleet`. Each request
is one transaction and one commit, its replay window included (context.py). On
PostgreSQL the database work of requests, sweeps and OTA ticks runs on DB_THREADS
threads (run_db): the loop unprotects and answers other requests, and other hubs'
transactions proceed, while a statement is on its way to the server, which is where a
PostgreSQL request spends most of its time. A hub's own requests still run one at a
time in the order they arrived (a FIFO lock per hub), so two transactions of one hub
never contend for its rows and its packs are stored in order. On SQLite it all runs on
the loop: SQLite's work is in this process, under the GIL, and a thread measured slower
(tests/bench/bench_fleet_coap.py).
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import aiocoap
from aiocoap.oscore_sitewrapper import OscoreSiteWrapper

from fleet.coap import guard, resources
from fleet.coap.context import HubCredentials
from fleet.db import session
from fleet.models import utcnow
from fleet.ota import campaigns
from fleet.services import enrolment, health

log = logging.getLogger("fleet.coap")
DB_THREADS = 4  # PostgreSQL: transactions of different hubs in flight at once


class CoapServer:
    def __init__(self, settings, engine):
        self.settings = settings
        self.engine = engine
        self.credentials = HubCredentials(engine, settings)
        self.limiter = resources.TokenBuckets(settings.hub_rate_per_s, settings.hub_rate_burst)
        # m/i downloads: one block per exchange, many in a row; ten times the budget.
        self.ota_limiter = resources.TokenBuckets(
            10 * settings.hub_rate_per_s, 10 * settings.hub_rate_burst
        )
        self.release_files = resources.ReleaseFiles()
        self.block_counts = resources.BlockCounts()
        self.port = None
        self._db = None  # the database threads, while running
        self._order = {}  # hub pk -> asyncio.Lock: a hub's requests one at a time
        self._context = None
        self._sweeper = None
        self._ota = None

    def release_file(self, db, release_id, name):
        """(bytes, ETag) of a release's manifest ("m") or bundle ("i")."""
        return self.release_files.get(db, release_id, name)

    def _forget(self, hub_id, oscore_id):
        self.credentials.forget(hub_id, oscore_id)

    async def run_db(self, fn, *args, key=None):
        """fn(*args) on a database thread (on the loop for SQLite); its result. Calls with
        the same `key` (a hub) run one at a time, in the order they were made."""
        if self._db is None:
            return fn(*args)
        loop = asyncio.get_running_loop()
        if key is None:
            return await loop.run_in_executor(self._db, fn, *args)
        lock = self._order.get(key)
        if lock is None:
            lock = self._order[key] = asyncio.Lock()  # FIFO: waiters go in arrival order
        async with lock:
            return await loop.run_in_executor(self._db, fn, *args)

    async def start(self):
        if self.engine.dialect.name != "sqlite":
            self._db = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="fleet-coap-db")
        site = OscoreSiteWrapper(resources.site(self), self.credentials)
        host, port = self.settings.coap_host, self.settings.coap_port
        # UDP only: aiocoap would also open CoAP over TCP and WebSockets by default.
        self._context = await aiocoap.Context.create_server_context(
            site, bind=(host, port), transports=["oscore", "udp6"]
        )
        guard.install(self._context)
        for iface in guard.udp_interfaces(self._context):
            self.port = iface._local_port()
        enrolment.on_revoke.append(self._forget)
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="fleet health sweep")
        self._ota = asyncio.create_task(self._ota_forever(), name="fleet OTA campaigns")
        log.info("CoAP endpoint on %s:%s", host, self.port)
        return self.port

    def sweep(self):
        """Mark silent hubs offline now; returns their ids."""
        with session(self.engine) as db:
            return health.sweep(db, self.settings, utcnow())

    async def _sweep_forever(self):
        period = max(1, self.settings.heartbeat_interval_s)
        while True:
            try:
                gone = await self.run_db(self.sweep)
            except Exception:  # a database hiccup must not end the sweeps
                log.exception("health sweep failed")
            else:
                if gone:
                    log.info("hubs offline: %s", ", ".join(gone))
            await asyncio.sleep(period)

    def ota_tick(self):
        """Advance, pause, time out and finish OTA campaigns now; write the blocks served
        not yet counted."""
        with session(self.engine) as db:
            campaigns.tick(db, self.settings, utcnow())
        self.block_counts.flush(self.engine)

    async def _ota_forever(self):
        while True:
            try:
                await self.run_db(self.ota_tick)
            except Exception:  # a database hiccup must not end the campaigns
                log.exception("OTA campaign tick failed")
            await asyncio.sleep(max(0.05, self.settings.ota_tick_s))

    async def stop(self):
        if self._forget in enrolment.on_revoke:
            enrolment.on_revoke.remove(self._forget)
        for task in (self._sweeper, self._ota):
            if task is not None:
                task.cancel()
        self._sweeper = self._ota = None
        if self._context is not None:
            await self._context.shutdown()
            self._context = None
        if self._db is not None:
            self._db.shutdown()  # waits for the transactions in hand
            self._db = None
        try:
            self.block_counts.flush(self.engine)
        except Exception:  # the counts are statistics: a stop must not fail on them
            log.exception("could not write the OTA blocks served")
