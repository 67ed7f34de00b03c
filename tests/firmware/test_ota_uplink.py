"""Uplink.send, the request the OTA download builds itself (a Block2 GET of `i`), over real
UDP and OSCORE to the stand-in fleet, while the app's own requests share the link."""

import asyncio
import sys

from protocol import cbor, codes, options
from protocol.block import Block2Download
from protocol.coap import CON, Message
from tests.mpy import ROOT

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`

from hub.uplink import Uplink  # noqa: E402

from tests.firmware.test_uplink import PACK, fleet, micropython_time  # noqa: E402, F401


async def test_block2_gets_through_send_share_the_link_with_requests(fleet):  # noqa: F811
    f, ident = fleet
    bundle = bytes(range(256)) * 10  # two whole 1024-byte blocks and a part
    f.offer("hub-1", cbor.dumps(cbor.Tag(18, [b"", {}, cbor.dumps({2: 7}), b""])), bundle)
    up = Uplink(ident)
    req = Message(CON, codes.GET)
    req.add(options.URI_PATH, "i")
    dl = Block2Download(req, 6)
    got = bytearray()

    async def download():
        while not dl.done:
            got.extend(dl.feed(await up.send(dl.next_request()))[1])

    async def telemetry():
        for s in range(3):
            resp = await up.request(codes.POST, "t", PACK, query=f"s={s}", cf=112)
            assert resp.code == codes.CHANGED

    # Without the link held per request the exchanges tangle and never end: fail, not hang.
    await asyncio.wait_for(asyncio.gather(download(), telemetry()), 30)
    assert bytes(got) == bundle
    assert [(p, n) for _, p, n in f.ota_gets] == [("i", 0), ("i", 1), ("i", 2)]
    assert sorted(s for _, s in f.records) == [0, 1, 2]
    assert up.sent == 6 and up.failed == 0
