"""Helpers for the CoAP endpoint tests: hubs made directly in the database, a server on
a free port, and a hub client built on aiocoap's own OSCORE (an implementation
independent of protocol/oscore.py), configured from the hub's identity fields."""

import asyncio
import contextlib
import json
import os
import socket

import aiocoap
from aiocoap.message import Direction
from aiocoap.oscore import FilesystemSecurityContext

from fleet.coap import CoapServer
from fleet.db import session
from fleet.models import CLAIMED, Condominium, Flat, Hub, Sensor
from fleet.secrets import seal_hub_secret
from fleet.settings import Settings
from protocol import senml

SECRET_KEY = "test-secret-key-for-the-coap-endpoint-0123456789"


def make_settings(db_url, **overrides):
    values = {
        "database_url": db_url,
        "secret_key": SECRET_KEY,
        "coap_host": "127.0.0.1",
        "coap_port": 0,
        "hub_rate_per_s": 1000.0,
        "hub_rate_burst": 1000,
    }
    values.update(overrides)
    return Settings(**values)


SENSORS = (
    {"key": "pir1", "kind": "motion", "room": "living", "pin": 4},
    {"key": "door", "kind": "door", "room": "entrance", "pin": 5, "active_level": 0},
    {"key": "t1", "kind": "temperature", "room": "bedroom", "i2c_addr": 0x44},
)


def add_hub(engine, settings, hub_id="hub-a", state=CLAIMED, sensors=SENSORS):
    """A hub row with a fresh sealed secret and its sensors; returns its identity map
    (what provisioning writes to identity.cbor)."""
    ms, salt, sid = os.urandom(16), os.urandom(8), os.urandom(4)
    with session(engine) as db:
        condo = Condominium(name="Via Larga 1")
        db.add(condo)
        db.flush()
        flat = Flat(condominium_id=condo.id, label="3B")
        db.add(flat)
        db.flush()
        hub = Hub(
            hub_id=hub_id,
            oscore_id=sid,
            secret_enc=seal_hub_secret(settings, ms, salt),
            state=state,
            condominium_id=condo.id,
        )
        db.add(hub)
        db.flush()
        for s in sensors:
            db.add(Sensor(hub_id=hub.id, flat_id=flat.id, **s))
        db.commit()
    return {"v": 1, "hub": hub_id, "sid": sid, "rid": b"", "ms": ms, "salt": salt}


def aiocoap_context(directory, ident):
    """The hub's side of its OSCORE context in aiocoap's own format and code."""
    os.makedirs(directory, exist_ok=True)
    settings = {
        "sender-id_hex": ident["sid"].hex(),
        "recipient-id_hex": ident["rid"].hex(),
        "secret_hex": ident["ms"].hex(),
        "salt_hex": ident["salt"].hex(),
    }
    with open(os.path.join(directory, "settings.json"), "w") as f:
        json.dump(settings, f)
    return FilesystemSecurityContext(str(directory))


def pack(hub_id, *records):
    return senml.encode(list(records), bn=senml.base_name(hub_id))


class RawHub:
    """A hub that protects with aiocoap's OSCORE and sends over its own UDP socket, so a
    test can replay or alter the exact bytes on the wire."""

    def __init__(self, secctx, port):
        self.ctx = secctx
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.connect(("127.0.0.1", port))
        self.mid = int.from_bytes(os.urandom(2), "big")

    def protect(self, code, path, payload=b"", query=(), etags=(), cf=None):
        msg = aiocoap.Message(code=code, uri_path=(path,), uri_query=tuple(query), payload=payload)
        if etags:
            msg.opt.etags = tuple(etags)
        if cf is not None:
            msg.opt.content_format = cf
        outer, request_id = self.ctx.protect(msg)
        self.mid = (self.mid + 1) & 0xFFFF
        outer.mtype = aiocoap.CON
        outer.mid = self.mid
        outer.token = self.mid.to_bytes(2, "big")
        return outer.encode(), request_id

    async def send_raw(self, data, timeout=5):
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.sock, data)
        while True:
            reply = await asyncio.wait_for(loop.sock_recv(self.sock, 2048), timeout)
            msg = aiocoap.Message.decode(reply)
            msg.direction = Direction.INCOMING
            if msg.mtype == aiocoap.ACK and msg.code == aiocoap.EMPTY:
                continue  # a slow server acknowledged first; its separate response follows
            if msg.mtype == aiocoap.CON:
                ack = aiocoap.Message(mtype=aiocoap.ACK, code=aiocoap.EMPTY, mid=msg.mid)
                await loop.sock_sendall(self.sock, ack.encode())
            return msg

    def open(self, outer, request_id):
        """The inner response of a protected reply."""
        inner, _ = self.ctx.unprotect(outer, request_id)
        return inner

    async def request(self, code, path, payload=b"", **kw):
        wire, request_id = self.protect(code, path, payload, **kw)
        outer = await self.send_raw(wire)
        return self.open(outer, request_id), wire

    def close(self):
        self.sock.close()


@contextlib.asynccontextmanager
async def running(settings, engine):
    server = CoapServer(settings, engine)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
