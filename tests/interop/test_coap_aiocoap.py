"""protocol/'s CoAP client, over a real UDP socket, against a real aiocoap server, through
a relay that drops 20% of datagrams in each direction (seeded, so runs are repeatable)."""

import asyncio
import hashlib
import random
import time

import aiocoap
import aiocoap.resource
import pytest
from aiocoap.optiontypes import BlockOption

from emulator.ports import free_udp_port
from protocol import codes, options
from protocol.block import Block1Upload, Block2Download, ETagChanged
from protocol.coap import CON, Message
from protocol.endpoint import Endpoint, Reset, Response, Timeout

BIG = random.Random(2024).randbytes(200 * 1024)
BlockwiseTuple = BlockOption.BlockwiseTuple
BIG_ETAG = hashlib.sha256(BIG).digest()[:8]
ACK_TIMEOUT_MS = 10  # localhost answers in well under a millisecond


class Hello(aiocoap.resource.Resource):
    async def render_get(self, request):
        return aiocoap.Message(payload=b"world", content_format=0)


class Echo(aiocoap.resource.Resource):
    async def render_post(self, request):
        return aiocoap.Message(code=aiocoap.CHANGED, payload=request.payload[::-1])


class Big(aiocoap.resource.Resource):
    async def render_get(self, request):
        return aiocoap.Message(payload=BIG, etag=BIG_ETAG)


class BigStateless(aiocoap.resource.Resource):
    """Slices blocks itself: aiocoap's own Block2 cache answers 4.08 to a download that
    resumes at block N>0 after its cache expired, so a resumable resource must do this."""

    async def needs_blockwise_assembly(self, request):
        return False

    async def render_get(self, request):
        want = request.opt.block2 or BlockwiseTuple(0, False, 6)
        szx = min(want.size_exponent, 6)
        start = want.block_number << (want.size_exponent + 4)
        chunk = BIG[start : start + (16 << szx)]
        more = start + len(chunk) < len(BIG)
        block = BlockwiseTuple(start >> (szx + 4), more, szx)
        return aiocoap.Message(payload=chunk, etag=BIG_ETAG, block2=block, size2=len(BIG))


class Relay(asyncio.DatagramProtocol):
    """Forwards datagrams between one client and the server, dropping some."""

    def __init__(self, server, loss, seed):
        self.server = server
        self.loss = loss
        self.up = random.Random(seed)
        self.down = random.Random(seed + 1)
        self.client = None
        self.dropped = self.passed = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if addr == self.server:
            rng, dest = self.down, self.client
        else:
            self.client = addr
            rng, dest = self.up, self.server
        if rng.random() < self.loss:
            self.dropped += 1
        else:
            self.passed += 1
            self.transport.sendto(data, dest)


class Inbox(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)


class Driver:
    """The asyncio glue a caller writes around the sans-IO Endpoint."""

    def __init__(self, transport, inbox, endpoint):
        self.transport = transport
        self.inbox = inbox
        self.ep = endpoint
        self.t0 = time.monotonic()
        self.timeouts = 0

    def now(self):
        return int((time.monotonic() - self.t0) * 1000)

    def flush(self):
        for d in self.ep.datagrams():
            self.transport.sendto(d)

    async def call(self, msg, attempts=4):
        """One request; a request that times out is simply asked again, as the OTA
        updater does after a power cut."""
        for _ in range(attempts):
            msg.token = b""
            token = self.ep.request(msg, self.now())
            while True:
                self.ep.tick(self.now())
                self.flush()
                ev = self.ep.next_event()
                if ev is not None:
                    assert ev.token == token
                    if isinstance(ev, Response):
                        return ev.message
                    assert not isinstance(ev, Reset), "server reset our request"
                    assert isinstance(ev, Timeout)
                    self.timeouts += 1
                    break
                wait = max(0, self.ep.next_timeout() - self.now()) / 1000
                try:
                    data = await asyncio.wait_for(self.inbox.queue.get(), wait)
                except TimeoutError:
                    continue
                self.ep.receive(data, self.now())
        raise AssertionError("no response after retries")


@pytest.fixture
async def lossy_client():
    site = aiocoap.resource.Site()
    site.add_resource(["hello"], Hello())
    site.add_resource(["echo"], Echo())
    site.add_resource(["big"], Big())
    site.add_resource(["big-stateless"], BigStateless())
    server_addr = ("127.0.0.1", free_udp_port())
    ctx = await aiocoap.Context.create_server_context(site, bind=server_addr, transports=["udp6"])
    loop = asyncio.get_running_loop()
    relay_t, relay = await loop.create_datagram_endpoint(
        lambda: Relay(server_addr, 0.2, seed=7), local_addr=("127.0.0.1", 0)
    )
    client_t, inbox = await loop.create_datagram_endpoint(
        Inbox, remote_addr=relay_t.get_extra_info("sockname")
    )
    ep = Endpoint(getrandbits=random.Random(3).getrandbits, ack_timeout=ACK_TIMEOUT_MS)
    try:
        yield Driver(client_t, inbox, ep), relay
    finally:
        client_t.close()
        relay_t.close()
        await ctx.shutdown()


def _req(code, *path):
    m = Message(CON, code)
    for p in path:
        m.add(options.URI_PATH, p)
    return m


async def test_get_and_post_through_loss(lossy_client):
    driver, relay = lossy_client
    for _ in range(10):
        r = await driver.call(_req(codes.GET, "hello"))
        assert (r.code, r.payload) == (codes.CONTENT, b"world")
        assert r.get_uint(options.CONTENT_FORMAT) == 0
        post = _req(codes.POST, "echo")
        post.payload = b"portineria"
        r = await driver.call(post)
        assert (r.code, r.payload) == (codes.CHANGED, b"airenitrop")
    r = await driver.call(_req(codes.GET, "nothing-here"))
    assert r.code == codes.NOT_FOUND
    assert relay.dropped > 0


async def test_block2_download_of_200kb_through_loss_is_byte_identical(lossy_client):
    driver, relay = lossy_client
    dl = Block2Download(_req(codes.GET, "big"))
    out = bytearray()
    started = time.monotonic()
    while not dl.done:
        offset, data = dl.feed(await driver.call(dl.next_request()))
        assert offset == len(out)
        out += data
    elapsed = time.monotonic() - started
    assert bytes(out) == BIG
    assert dl.etag == BIG_ETAG  # aiocoap sends no Size2 for its own slicing
    # 200 blocks of 1 KiB; about a fifth of datagrams lost and retransmitted.
    assert relay.dropped > 0.1 * (relay.dropped + relay.passed)
    print(f"200 KB in {elapsed:.2f} s, {relay.dropped} dropped, {driver.timeouts} timeouts")


async def test_block2_resume_from_saved_block(lossy_client):
    driver, _ = lossy_client
    dl = Block2Download(_req(codes.GET, "big-stateless"), szx=5, num=300, etag=BIG_ETAG)
    out = bytearray(BIG[: dl.offset])
    requests = 0
    while not dl.done:
        offset, data = dl.feed(await driver.call(dl.next_request()))
        assert offset == len(out)
        out += data
        requests += 1
    assert bytes(out) == BIG
    assert requests == (len(BIG) - 300 * 512) // 512
    assert dl.size == len(BIG)


async def test_resume_after_the_image_changed_is_refused(lossy_client):
    driver, _ = lossy_client
    dl = Block2Download(_req(codes.GET, "big-stateless"), szx=6, num=10, etag=b"old-etag")
    with pytest.raises(ETagChanged):
        dl.feed(await driver.call(dl.next_request()))


async def test_block1_upload_to_aiocoap(lossy_client):
    driver, _ = lossy_client
    body = random.Random(5).randbytes(10_000)
    up = Block1Upload(_req(codes.POST, "echo"), body, szx=6)
    while not up.feed(await driver.call(up.next_request())):
        pass
    assert up.response.code == codes.CHANGED
    # aiocoap reassembled the blocks and answered with the reversed body; fetch it whole.
    assert len(up.response.payload) <= 1024 and body[::-1].startswith(up.response.payload)
