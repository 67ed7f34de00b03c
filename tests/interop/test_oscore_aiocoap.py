"""Our OSCORE client (protocol.coap messages over a real UDP socket) against an aiocoap
server running aiocoap's own OSCORE with the same context parameters: protected POST
and GET work, a replayed or tampered request is refused, and a server that lost its
replay window is brought back by Echo (RFC 8613 Appendix B.1.2)."""

import asyncio
import json
import socket

import aiocoap
import aiocoap.resource as resource
import pytest
from aiocoap.credentials import CredentialsMap
from aiocoap.oscore import FilesystemSecurityContext
from aiocoap.oscore_sitewrapper import OscoreSiteWrapper

from emulator.ports import free_udp_port
from protocol import coap, codes, options
from protocol.errors import OSCOREError
from protocol.oscore import Context

SECRET = bytes(range(1, 17))
SALT = bytes.fromhex("9e7ca92223786340")
HUB_ID = b"\x42"


class Telemetry(resource.Resource):
    def __init__(self):
        super().__init__()
        self.received = []

    async def render_post(self, request):
        self.received.append(request.payload)
        return aiocoap.Message(code=aiocoap.CHANGED, payload=b"got " + request.payload)


class Config(resource.Resource):
    async def render_get(self, request):
        return aiocoap.Message(code=aiocoap.CONTENT, payload=b"\xa1\x01\x02")


@pytest.fixture
def context_dir(tmp_path):
    # The fleet's side of the hub's context, in aiocoap's on-disk format.
    settings = {
        "sender-id_hex": "",
        "recipient-id_hex": HUB_ID.hex(),
        "secret_hex": SECRET.hex(),
        "salt_hex": SALT.hex(),
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    return tmp_path


async def start_server(context_dir):
    telemetry = Telemetry()
    site = resource.Site()
    site.add_resource(["t"], telemetry)
    site.add_resource(["config"], Config())
    creds = CredentialsMap()
    creds[":hub"] = FilesystemSecurityContext(str(context_dir))
    port = free_udp_port()
    server = await aiocoap.Context.create_server_context(
        OscoreSiteWrapper(site, creds), bind=("127.0.0.1", port), transports=["oscore", "udp6"]
    )
    return server, port, telemetry


class Hub:
    """The smallest client driver: one UDP socket, one request at a time."""

    def __init__(self, port):
        self.ctx = Context(SECRET, HUB_ID, b"", SALT)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.connect(("127.0.0.1", port))
        self.mid = 100

    def request(self, code, path, payload=b""):
        self.mid += 1
        msg = coap.Message(coap.CON, code, self.mid, self.mid.to_bytes(2, "big"))
        msg.add(options.URI_PATH, path)
        msg.payload = payload
        return msg

    async def send_raw(self, data):
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.sock, data)
        return coap.decode(await asyncio.wait_for(loop.sock_recv(self.sock, 2048), 5))

    async def exchange(self, msg):
        outer, req = self.ctx.protect_request(msg)
        wire = outer.encode()
        resp = self.ctx.unprotect_response(await self.send_raw(wire), req)
        return resp, wire

    def close(self):
        self.sock.close()


@pytest.fixture
async def fleet(context_dir):
    server, port, telemetry = await start_server(context_dir)
    hub = Hub(port)
    yield hub, telemetry
    hub.close()
    await server.shutdown()


async def test_protected_post_and_get(fleet):
    hub, telemetry = fleet
    resp, _ = await hub.exchange(hub.request(codes.POST, "t", b"\x81\xa1\x00\x01"))
    assert resp.code == codes.CHANGED and resp.payload == b"got \x81\xa1\x00\x01"
    assert telemetry.received == [b"\x81\xa1\x00\x01"]
    resp, _ = await hub.exchange(hub.request(codes.GET, "config"))
    assert resp.code == codes.CONTENT and resp.payload == b"\xa1\x01\x02"


async def test_replayed_request_is_refused(fleet):
    hub, telemetry = fleet
    _, wire = await hub.exchange(hub.request(codes.POST, "t", b"once"))
    # The same OSCORE request under a fresh message ID, so CoAP deduplication does not
    # simply answer from its cache: only OSCORE's replay window can catch it.
    replay = coap.decode(wire)
    replay.mid += 1000
    resp = await hub.send_raw(replay.encode())
    assert resp.code == codes.UNAUTHORIZED and resp.get(options.OSCORE) is None
    assert telemetry.received == [b"once"]


async def test_tampered_request_is_refused(fleet):
    hub, telemetry = fleet
    outer, req = hub.ctx.protect_request(hub.request(codes.POST, "t", b"tamper me"))
    outer.payload = outer.payload[:3] + bytes([outer.payload[3] ^ 0x01]) + outer.payload[4:]
    resp = await hub.send_raw(outer.encode())
    assert resp.code == codes.BAD_REQUEST  # "Decryption failed", as RFC 8613 §8.2
    with pytest.raises(OSCOREError):
        hub.ctx.unprotect_response(resp, req)
    assert telemetry.received == []


async def test_echo_recovery_after_the_server_lost_its_replay_window(context_dir):
    (context_dir / "sequence.json").write_text(
        json.dumps({"next-to-send": 0, "received": "unknown"})
    )
    server, port, telemetry = await start_server(context_dir)
    hub = Hub(port)
    try:
        msg = hub.request(codes.POST, "t", b"after reboot")
        resp, _ = await hub.exchange(msg)
        assert resp.code == codes.UNAUTHORIZED and resp.get(options.ECHO)
        assert telemetry.received == []
        retry = hub.ctx.echo_retry(msg, resp)
        hub.mid += 1
        retry.mid = hub.mid
        resp, _ = await hub.exchange(retry)
        assert resp.code == codes.CHANGED
        assert telemetry.received == [b"after reboot"]
    finally:
        hub.close()
        await server.shutdown()
