"""The resources hubs use (protocol/README.md): `t` telemetry, `hb` heartbeat, `c`
configuration, and `m`/`i` the manifest and bundle of the update offered. Each one names its hub from the OSCORE context that unprotected the
request, applies the hub's rate limit, re-reads the hub's row (so a revocation made by
any process is honoured at once) and calls the shared services."""

import hashlib
import logging
import math
import threading
import time

import aiocoap
import aiocoap.resource as resource
from aiocoap import error
from aiocoap.numbers.codes import Code
from aiocoap.transports.oscore import OSCOREAddress
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from fleet import metrics
from fleet.db import session
from fleet.models import Hub, Release, utcnow
from fleet.ota import deployments
from fleet.services import config, enrolment, health, telemetry
from protocol import cbor
from protocol.errors import ProtocolError

log = logging.getLogger("fleet.coap")

CF_CBOR = 60
CF_SENML_CBOR = 112
CF_COSE_SIGN1 = 18
CF_OCTETS = 42
MAX_SZX = 6  # 1024-byte blocks at most (protocol/README.md, CoAP limits)
RETRY_AFTER_DB_S = 5  # Max-Age on a 5.03 while the database is unavailable
FLUSH_BLOCKS = 16  # blocks served a deployment's count may hold in memory
_HUBS = Hub.__table__
_HUB = select(
    _HUBS.c.id, _HUBS.c.hub_id, _HUBS.c.state, _HUBS.c.oscore_id, _HUBS.c.last_seen
).where(_HUBS.c.id == bindparam("pk"))


class TokenBuckets:
    """One token bucket per hub: `rate` requests per second sustained, `burst` at once."""

    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self._buckets = {}  # hub pk -> (tokens, when)

    def take(self, key):
        """0 if a request may go ahead now, else the seconds until one may."""
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate if self.rate > 0 else 3600


def _reply(code, text=b"", max_age=None):
    msg = aiocoap.Message(code=code, payload=text)
    if max_age is not None:
        msg.opt.max_age = max_age
    return msg


class HubResource(resource.Resource):
    name = ""
    limiter = "limiter"  # the CoapServer attribute holding this resource's token buckets

    def __init__(self, server):
        super().__init__()
        self.server = server

    async def render(self, request):
        remote = request.remote
        if not isinstance(remote, OSCOREAddress):
            metrics.rejected.inc(reason="unprotected")
            raise error.Unauthorized("OSCORE required")
        ctx = remote.security_context
        wait = getattr(self.server, self.limiter).take(ctx.hub_pk)
        if wait:
            metrics.rejected.inc(reason="rate_limited")
            return _reply(Code.TOO_MANY_REQUESTS, b"slow down", max(1, math.ceil(wait)))
        return await self.server.run_db(self._serve, ctx, request, key=ctx.hub_pk)

    def _serve(self, ctx, request):
        """The request's database work, on the server's database thread."""
        try:
            with session(self.server.engine) as db:
                # Re-read on every request: a revocation by any process counts at once.
                hub = db.connection().execute(_HUB, {"pk": ctx.hub_pk}).first()
                if (
                    hub is None
                    or not enrolment.is_accepted(hub)
                    or hub.oscore_id != ctx.recipient_id
                ):
                    self.server.credentials.forget(oscore_id=ctx.recipient_id)
                    metrics.rejected.inc(reason="revoked")
                    return _reply(Code.UNAUTHORIZED, b"hub not enrolled")
                metrics.received.inc(resource=self.name)
                # The window goes in with this request's work: one commit, not two.
                ctx.write_window(db)
                reply = self.handle(db, hub, request)
                if ctx.window_pending(db):  # a handler that wrote nothing else
                    db.commit()
                return reply
        except SQLAlchemyError:
            log.exception("database unavailable while serving hub %s", ctx.hub_id)
            metrics.rejected.inc(reason="database")
            return _reply(Code.SERVICE_UNAVAILABLE, b"try again later", RETRY_AFTER_DB_S)

    def _refuse(self, reason, code=Code.BAD_REQUEST):
        metrics.rejected.inc(reason="bad_payload")
        return _reply(code, reason.encode())


class Telemetry(HubResource):
    name = "t"

    def handle(self, db, hub, request):
        if request.code != Code.POST:
            return _reply(Code.METHOD_NOT_ALLOWED)
        cf = request.opt.content_format
        if cf is not None and int(cf) != CF_SENML_CBOR:
            return self._refuse("telemetry is SenML-CBOR", Code.UNSUPPORTED_CONTENT_FORMAT)
        try:
            seqs = [s for s in map(telemetry.parse_seq, request.opt.uri_query) if s is not None]
            if len(seqs) != 1:
                raise telemetry.TelemetryRejected("give s=<seq> once")
            now = utcnow()
            health.heard(db, hub, now)
            stored = telemetry.store_pack(db, hub, seqs[0], request.payload, now)
        except telemetry.TelemetryRejected as e:
            db.rollback()
            return self._refuse(e.reason)
        if not stored.duplicate:
            metrics.stored.inc(stored.readings + stored.events)
        return _reply(Code.CHANGED)


class Heartbeat(HubResource):
    name = "hb"

    def handle(self, db, hub, request):
        if request.code != Code.POST:
            return _reply(Code.METHOD_NOT_ALLOWED)
        try:
            beat = cbor.loads(request.payload)
            hub = db.get(Hub, hub.id)
            reply = health.heartbeat(db, self.server.settings, hub, beat, utcnow())
        except ProtocolError:
            return self._refuse("a heartbeat is a CBOR map")
        except health.HeartbeatRejected as e:
            db.rollback()
            return self._refuse(e.reason)
        return aiocoap.Message(code=Code.CHANGED, payload=cbor.dumps(reply), content_format=CF_CBOR)


class Config(HubResource):
    name = "c"

    def handle(self, db, hub, request):
        if request.code != Code.GET:
            return _reply(Code.METHOD_NOT_ALLOWED)
        health.heard(db, hub, utcnow())
        cfg, etag = config.hub_config(db, self.server.settings, hub)
        db.commit()
        if etag in request.opt.etags:
            return aiocoap.Message(code=Code.VALID, etag=etag)
        return aiocoap.Message(
            code=Code.CONTENT, payload=cbor.dumps(cfg), etag=etag, content_format=CF_CBOR
        )


class ReleaseFile(HubResource):
    """`m` (signed manifest) or `i` (bundle) of the release offered to the hub, cut into
    Block2 blocks here — any block on request, so a download resumes at block N after a
    reboot; aiocoap's own block cache (4.08 once expired) is bypassed. ETag: the first 8
    bytes of the file's SHA-256; Size2 its length. Each block served is counted on the
    deployment, in batches (BlockCounts). Downloads have their own, larger rate budget:
    the hub asks for one block at a time anyway."""

    limiter = "ota_limiter"

    def __init__(self, server, name):
        super().__init__(server)
        self.name = name

    async def needs_blockwise_assembly(self, request):
        return False

    def handle(self, db, hub, request):
        if request.code != Code.GET:
            return _reply(Code.METHOD_NOT_ALLOWED)
        serving = deployments.serving(db, hub.id)
        if serving is None:
            return _reply(Code.NOT_FOUND, b"no update for this hub")
        deployment_id, release_id, _ = serving
        body, etag = self.server.release_file(db, release_id, self.name)
        num, szx = 0, MAX_SZX
        if request.opt.block2 is not None:
            num, szx = request.opt.block2.block_number, min(request.opt.block2.size_exponent, 6)
        size = 16 << szx
        if num * size >= len(body) and num:
            return self._refuse("block past the end")
        first = self.name == "i" and num == 0
        counts = self.server.block_counts
        served = counts.take(deployment_id) + 1  # this block and those held in memory
        # Written when the download begins or a file ends (a count users are shown and
        # the resume proof reads) and every FLUSH_BLOCKS: the commit stays (the replay
        # window's), the statement per block goes.
        write = first or (num + 1) * size >= len(body) or served >= FLUSH_BLOCKS
        try:
            deployments.count_block(db, deployment_id, first, served if write else 0)
            db.commit()
        except Exception:
            counts.add(deployment_id, served - 1)  # this block was not served
            raise
        if not write:
            counts.add(deployment_id, served)
        return aiocoap.Message(
            code=Code.CONTENT,
            payload=body[num * size : (num + 1) * size],
            etag=etag,
            block2=(num, (num + 1) * size < len(body), szx),
            size2=len(body),
            content_format=CF_COSE_SIGN1 if self.name == "m" else CF_OCTETS,
        )


class BlockCounts:
    """m/i blocks served per deployment and not yet written. The request that fills a
    batch writes it with its own work; flush (the OTA tick, a stop) writes the rest, so
    a stalled download's count is at most settings.ota_tick_s late. A crash of the server
    loses fewer than FLUSH_BLOCKS per download since the last tick: the count can only
    fall short. Thread-safe: on PostgreSQL requests and ticks run on several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending = {}  # deployment id -> blocks

    def take(self, deployment_id):
        """The deployment's blocks held, now the caller's to write or give back."""
        with self._lock:
            return self._pending.pop(deployment_id, 0)

    def add(self, deployment_id, blocks):
        if blocks:
            with self._lock:
                self._pending[deployment_id] = self._pending.get(deployment_id, 0) + blocks

    def flush(self, engine):
        """Write every count held, in one transaction; on failure they are held again."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            with session(engine) as db:
                for deployment_id, blocks in pending.items():
                    deployments.count_block(db, deployment_id, False, blocks)
                db.commit()
        except Exception:
            for deployment_id, blocks in pending.items():
                self.add(deployment_id, blocks)
            raise


class ReleaseFiles:
    """Manifests and bundles by release id, read from the database once: releases never
    change, and a bundle is read block by block many times."""

    def __init__(self, keep=4):
        self.keep = keep
        self._files = {}  # release id -> {"m": (bytes, etag), "i": (bytes, etag)}

    def get(self, db, release_id, name):
        files = self._files.get(release_id)
        if files is None:
            rel = db.get(Release, release_id)
            files = {
                key: (body, hashlib.sha256(body).digest()[:8])
                for key, body in (("m", rel.manifest), ("i", rel.bundle))
            }
            if len(self._files) >= self.keep:
                self._files.pop(next(iter(self._files)))
            self._files[release_id] = files
        return files[name]


def site(server):
    s = resource.Site()
    s.add_resource(["t"], Telemetry(server))
    s.add_resource(["hb"], Heartbeat(server))
    s.add_resource(["c"], Config(server))
    s.add_resource(["m"], ReleaseFile(server, "m"))
    s.add_resource(["i"], ReleaseFile(server, "i"))
    return s
