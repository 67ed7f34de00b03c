"""A stand-in for the fleet server, for hub-side tests that want to hand a hub exactly
what they choose: an aiocoap server with aiocoap's own OSCORE, one security context per
enrolled hub, serving `t`, `hb`, `c` and the OTA resources `m` and `i` as
protocol/README.md defines them. It offers whatever `offer()` is given, at once and
without the real fleet's campaigns or deployment states (fleet/ota/; protocol/README.md
"OTA" lists the differences). Like the real fleet it holds the offer back (no reply key
3, so no install) while the hub's heartbeat says it holds emergencies (key 10) or while a
test holds it with `hold()`, standing in for an alert open for one of its residents.

    fleet = StandinFleet(state_dir)
    ident = fleet.enrol("hub-1", port=relay_port)        # -> identity map for the hub
    write_identity(hub_dir / "flash", ident)             # what provisioning puts on flash
    fleet.set_config("hub-1", sensors=[...], hb=60, rd=300)
    port = await fleet.start()                            # 127.0.0.1, a free port
    await fleet.wait_for(lambda: fleet.events("hub-1", "panic"), timeout=5)
    fleet.offer("hub-1", manifest, bundle)   # a release (tools/release.py) in hb replies
    fleet.hold("hub-1", True)                 # no offer in replies: m/i served, no install
    await fleet.stop()

Telemetry is stored once per (hub, s) in memory (`records`) and appended to
STATE_DIR/telemetry.jsonl; a repeat is answered 2.04 like the first copy and counted in
`repeats`. The state directory holds, per hub, aiocoap's context (settings.json and its
sequence-number file) and the hub's identity as enrolled.

As a program: `python -m emulator.standin_fleet STATE_DIR [--host H] [--port P]`
serves every hub enrolled under STATE_DIR; `--enrol HUB_ID=FLASH_DIR` enrols one more
and writes its identity.cbor into FLASH_DIR first.
"""

import argparse
import asyncio
import hashlib
import json
import os
import time
from collections import Counter
from pathlib import Path

import aiocoap
import aiocoap.resource as resource
from aiocoap.credentials import CredentialsMap
from aiocoap.oscore import FilesystemSecurityContext
from aiocoap.oscore_sitewrapper import OscoreSiteWrapper
from aiocoap.transports.oscore import OSCOREAddress

from emulator.ports import free_udp_port
from protocol import cbor, senml
from protocol.errors import ProtocolError

IDENTITY = "identity.cbor"


def write_identity(flash_dir, fields):
    """Put a hub's identity.cbor on its flash, as provisioning does."""
    import importlib.util

    # The hub's own module checks the map, without putting firmware/ on this import path.
    src = Path(__file__).resolve().parents[1] / "firmware" / "hub" / "identity.py"
    spec = importlib.util.spec_from_file_location("_hub_identity", src)
    identity = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(identity)
    path = Path(flash_dir) / IDENTITY
    path.write_bytes(identity.dumps(fields))
    return path


def _hub_of(request):
    # Only a request that came through OSCORE names its hub; anything else is refused.
    remote = request.remote
    if not isinstance(remote, OSCOREAddress):
        raise aiocoap.error.Unauthorized("OSCORE required")
    return remote.security_context.hub_id


class _Telemetry(resource.Resource):
    def __init__(self, fleet):
        super().__init__()
        self.fleet = fleet

    async def render_post(self, request):
        hub = _hub_of(request)
        if hub in self.fleet.refusing:
            raise aiocoap.error.ServiceUnavailable("telemetry refused for a test")
        seq = None
        for q in request.opt.uri_query:
            if q.startswith("s="):
                try:
                    seq = int(q[2:])
                except ValueError:
                    pass
        if seq is None or not 0 <= seq < 1 << 32:
            raise aiocoap.error.BadRequest("s=<seq> required")
        try:
            records = senml.decode(request.payload)
        except ProtocolError as e:
            raise aiocoap.error.BadRequest(str(e)) from None
        self.fleet._store(hub, seq, records)
        return aiocoap.Message(code=aiocoap.CHANGED)


class _Heartbeat(resource.Resource):
    def __init__(self, fleet):
        super().__init__()
        self.fleet = fleet

    async def render_post(self, request):
        hub = _hub_of(request)
        try:
            beat = cbor.loads(request.payload)
        except ProtocolError:
            beat = None
        if not isinstance(beat, dict):
            raise aiocoap.error.BadRequest("heartbeat is a CBOR map")
        self.fleet.heartbeats.append((hub, beat, time.monotonic()))
        reply = {1: int(time.time())}
        cfg = self.fleet.configs.get(hub)
        if cfg is not None:
            reply[2] = cfg["v"]
        offer = self.fleet.offers.get(hub)
        if offer is not None and hub not in self.fleet.holds and not beat.get(10):
            reply[3] = {1: offer["seq"]}
        return aiocoap.Message(code=aiocoap.CHANGED, payload=cbor.dumps(reply), content_format=60)


class _Config(resource.Resource):
    def __init__(self, fleet):
        super().__init__()
        self.fleet = fleet

    async def render_get(self, request):
        hub = _hub_of(request)
        cfg = self.fleet.configs.get(hub)
        if cfg is None:
            raise aiocoap.error.NotFound("no configuration for this hub")
        self.fleet.config_gets.append((hub, list(request.opt.etags)))
        if cfg["v"] in request.opt.etags:
            return aiocoap.Message(code=aiocoap.VALID, etag=cfg["v"])
        return aiocoap.Message(
            code=aiocoap.CONTENT, payload=cbor.dumps(cfg), etag=cfg["v"], content_format=60
        )


class _Release(resource.Resource):
    """`m` or `i` of the release offered to the hub, cut into Block2 blocks here (not by
    aiocoap, whose block cache cannot resume at block N), with an ETag per file."""

    def __init__(self, fleet, key):
        super().__init__()
        self.fleet = fleet
        self.key = key

    async def needs_blockwise_assembly(self, request):
        return False

    async def render_get(self, request):
        hub = _hub_of(request)
        offer = self.fleet.offers.get(hub)
        if offer is None:
            raise aiocoap.error.NotFound("no update for this hub")
        body = offer[self.key]
        num, szx = 0, 6
        if request.opt.block2 is not None:
            num, szx = request.opt.block2.block_number, min(request.opt.block2.size_exponent, 6)
        self.fleet.ota_gets.append((hub, self.key, num))
        self.fleet.ota_got_at.append(time.monotonic())
        size = 16 << szx
        if num * size >= len(body) and num:
            raise aiocoap.error.BadRequest("block past the end")
        chunk = body[num * size : (num + 1) * size]
        more = (num + 1) * size < len(body)
        return aiocoap.Message(
            code=aiocoap.CONTENT,
            payload=chunk,
            etag=hashlib.sha256(body).digest()[:8],
            block2=(num, more, szx),
            size2=len(body),
            content_format=18 if self.key == "m" else 42,
        )


class StandinFleet:
    def __init__(self, state_dir):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.records = {}  # (hub, s) -> resolved SenML records
        self.arrivals = []  # (hub, s, time.monotonic()) of each first copy
        self.repeats = Counter()  # (hub, s) -> copies after the first
        self.heartbeats = []  # (hub, map, time.monotonic())
        self.configs = {}  # hub -> configuration map
        self.config_gets = []  # (hub, ETags the hub sent)
        self.offers = {}  # hub -> {"seq", "m": signed manifest, "i": bundle}
        self.holds = set()  # hubs whose offer is held back (see hold())
        self.refusing = set()  # hubs whose telemetry is answered 5.03: it stays queued
        self.ota_gets = []  # (hub, "m" or "i", block number) of every OTA request
        self.ota_got_at = []  # time.monotonic() of each, as in ota_gets
        self._creds = CredentialsMap()
        self._server = None
        self.port = None
        for d in sorted(self.dir.iterdir()):
            if (d / IDENTITY).exists():
                self._add_context(cbor.loads((d / IDENTITY).read_bytes()))

    def enrol(self, hub_id, host="127.0.0.1", port=5683, **extra):
        """Make a new hub's identity (fresh secret and salt) and its context here;
        returns the identity map for the hub's flash (see hub/identity.py)."""
        n = sum(1 for d in self.dir.iterdir() if (d / IDENTITY).exists())
        fields = {
            "v": 1,
            "hub": hub_id,
            "sid": (n + 1).to_bytes(2, "big"),
            "rid": b"",
            "ms": os.urandom(16),
            "salt": os.urandom(8),
            "host": host,
            "port": port,
            "ssid": "portineria",
            "wkey": "",
        }
        fields.update(extra)
        d = self.dir / hub_id
        if d.exists():
            raise ValueError(f"hub {hub_id} is already enrolled in {self.dir}")
        d.mkdir()
        (d / IDENTITY).write_bytes(cbor.dumps(fields))
        self._add_context(fields)
        return fields

    def _add_context(self, fields):
        d = self.dir / fields["hub"] / "oscore"
        d.mkdir(exist_ok=True)
        settings = {
            "sender-id_hex": fields.get("rid", b"").hex(),
            "recipient-id_hex": fields["sid"].hex(),
            "secret_hex": fields["ms"].hex(),
            "salt_hex": fields.get("salt", b"").hex(),
        }
        (d / "settings.json").write_text(json.dumps(settings))
        ctx = FilesystemSecurityContext(str(d))
        ctx.hub_id = fields["hub"]
        self._creds[":" + fields["hub"]] = ctx

    def set_config(self, hub_id, sensors=(), hb=60, rd=300):
        """A new configuration for a hub, with a new ETag; returns the ETag."""
        old = self.configs.get(hub_id)
        version = 1 if old is None else int.from_bytes(old["v"], "big") + 1
        etag = version.to_bytes(4, "big")
        self.configs[hub_id] = {"v": etag, "hb": hb, "rd": rd, "s": list(sensors)}
        return etag

    def offer(self, hub_id, manifest, bundle):
        """Offer a release (tools/release.py's manifest.cose and bundle.bin) to a hub in
        its heartbeat replies, until withdraw(); returns its sequence number."""
        payload = cbor.loads(manifest).value[2]  # read, not verified: the hub verifies
        seq = cbor.loads(payload)[2]
        self.offers[hub_id] = {"seq": seq, "m": bytes(manifest), "i": bytes(bundle)}
        return seq

    def hold(self, hub_id, on=True):
        """Hold a hub's offer back (as the real fleet does while an alert is open for a
        resident it serves): `m` and `i` are still served, but no reply says go."""
        if on:
            self.holds.add(hub_id)
        else:
            self.holds.discard(hub_id)

    def withdraw(self, hub_id):
        self.offers.pop(hub_id, None)

    def _store(self, hub, seq, records):
        key = (hub, seq)
        if key in self.records:
            self.repeats[key] += 1
            return
        self.records[key] = records
        self.arrivals.append((hub, seq, time.monotonic()))
        with open(self.dir / "telemetry.jsonl", "a") as f:
            f.write(json.dumps({"hub": hub, "s": seq, "at": time.time(), "records": records}))
            f.write("\n")

    def events(self, hub, kind):
        """(s, record) for every stored record of `kind` from `hub`, in arrival order."""
        out = []
        for h, seq, _ in self.arrivals:
            if h == hub:
                for r in self.records[(h, seq)]:
                    if r["n"].endswith("/" + kind):
                        out.append((seq, r))
        return out

    def arrival(self, hub, seq):
        for h, s, t in self.arrivals:
            if (h, s) == (hub, seq):
                return t
        return None

    async def wait_for(self, predicate, timeout):
        """Poll predicate() until it is true (returns its value) or timeout s pass."""
        end = time.monotonic() + timeout
        while True:
            v = predicate()
            if v or time.monotonic() > end:
                return v
            await asyncio.sleep(0.002)

    async def start(self, host="127.0.0.1", port=None):
        site = resource.Site()
        site.add_resource(["t"], _Telemetry(self))
        site.add_resource(["hb"], _Heartbeat(self))
        site.add_resource(["c"], _Config(self))
        site.add_resource(["m"], _Release(self, "m"))
        site.add_resource(["i"], _Release(self, "i"))
        for attempt in range(5):
            self.port = port or free_udp_port(host)
            try:
                self._server = await aiocoap.Context.create_server_context(
                    OscoreSiteWrapper(site, self._creds),
                    bind=(host, self.port),
                    transports=["oscore", "udp6"],
                )
                break
            except OSError:
                # A free port can be taken between looking and binding (tests run side
                # by side): look again, unless the caller named the port.
                if port or attempt == 4:
                    raise
        return self.port

    async def stop(self):
        if self._server is not None:
            await self._server.shutdown()
            self._server = None


async def _serve(args):
    fleet = StandinFleet(args.state_dir)
    port = args.port or free_udp_port(args.host)  # hubs must be told a real port
    for spec in args.enrol:
        hub_id, _, flash = spec.partition("=")
        if not hub_id or not flash:
            raise ValueError(f"--enrol wants HUB_ID=FLASH_DIR, not {spec!r}")
        write_identity(flash, fleet.enrol(hub_id, host=args.host, port=port))
    await fleet.start(args.host, port)
    print(f"stand-in fleet on {args.host}:{port}, hubs: {sorted(fleet._creds)}", flush=True)
    await asyncio.Event().wait()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m emulator.standin_fleet")
    ap.add_argument("state_dir")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5683)
    ap.add_argument("--enrol", action="append", default=[], metavar="HUB_ID=FLASH_DIR")
    try:
        asyncio.run(_serve(ap.parse_args(argv)))
    except KeyboardInterrupt:
        pass
    except (ValueError, OSError) as e:  # a user's mistake: a sentence, not a traceback
        raise SystemExit(f"standin_fleet: {e}") from None


if __name__ == "__main__":
    main()
