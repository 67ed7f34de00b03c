"""`m` and `i` over CoAP + OSCORE: served only for the release offered to the hub (4.04
otherwise), cut into Block2 blocks by the fleet so any block can be asked for first (a
resumed download), with ETag and Size2, each block counted on the deployment."""

import hashlib

import aiocoap
from aiocoap.numbers.codes import Code
from aiocoap.optiontypes import BlockOption
from sqlmodel import select

from fleet.db import session
from fleet.models import Deployment
from fleet.ota import campaigns, releases
from protocol import cbor
from tests.fleet.coap_support import RawHub, add_hub, aiocoap_context, make_settings, running
from tests.fleet.ota_support import build, keys_file, new_key


async def _get(hub, path, num=None, szx=6):
    # Block2 is an inner (protected) option: the request is built here, not by RawHub.
    msg = aiocoap.Message(code=Code.GET, uri_path=(path,))
    if num is not None:
        msg.opt.block2 = BlockOption.BlockwiseTuple(num, False, szx)
    outer, request_id = hub.ctx.protect(msg)
    hub.mid = (hub.mid + 1) & 0xFFFF
    outer.mtype, outer.mid, outer.token = aiocoap.CON, hub.mid, hub.mid.to_bytes(2, "big")
    return hub.open(await hub.send_raw(outer.encode()), request_id)


async def test_m_and_i_serve_the_offered_release_block_by_block(db_url, engine, tmp_path):
    key = new_key()
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key))
    ident = add_hub(engine, settings)  # hardware "esp32": MicroPython on an ESP32
    manifest, bundle = build(key, 3, hw="micropython-esp32", body=bytes(range(256)) * 12)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            beat = cbor.dumps({1: 10, 5: "0.1.0"})
            reply = cbor.loads((await hub.request(Code.POST, "hb", beat))[0].payload)
            assert 3 not in reply
            assert (await _get(hub, "i")).code == Code.NOT_FOUND  # nothing offered
            with session(engine) as db:
                rel = releases.upload(db, settings, manifest, bundle, None)
                c = campaigns.create(db, None, rel.id, waves=(100,))
                campaigns.start(db, None, c.id)
            assert (await _get(hub, "m")).code == Code.NOT_FOUND  # not offered yet
            reply = cbor.loads((await hub.request(Code.POST, "hb", beat))[0].payload)
            assert reply[3] == {1: 3}
            # A resumed download asks for block 2 first; then the rest, at 256 bytes.
            third = await _get(hub, "i", 2)
            assert third.code == Code.CONTENT and third.payload == bundle[2048:3072]
            assert third.opt.etag == hashlib.sha256(bundle).digest()[:8]
            assert third.opt.size2 == len(bundle) and third.opt.block2.more
            assert third.opt.content_format == 42
            last = (len(bundle) - 1) // 1024
            end = await _get(hub, "i", last)
            assert end.payload == bundle[last * 1024 :] and not end.opt.block2.more
            small = await _get(hub, "i", 1, szx=4)
            assert small.payload == bundle[256:512] and small.opt.block2.size_exponent == 4
            past = await _get(hub, "i", last + 1)
            assert past.code == Code.BAD_REQUEST
            m = await _get(hub, "m", 0)
            assert m.payload == manifest[:1024] and m.opt.content_format == 18
            put = (await hub.request(Code.PUT, "i"))[0]
            assert put.code == Code.METHOD_NOT_ALLOWED
            with session(engine) as db:
                d = db.exec(select(Deployment)).one()
            assert d.blocks == 4  # block 2, the last, a small block 1, manifest block 0
            assert d.state == "idle"  # block 0 of the bundle not yet asked for
            assert (await _get(hub, "i")).payload == bundle[:1024]
            with session(engine) as db:
                d = db.exec(select(Deployment)).one()
            assert (d.blocks, d.state) == (5, "downloading")
        finally:
            hub.close()
