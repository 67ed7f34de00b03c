# Run by tests/protocol/test_coap_mp.py under the real MicroPython: the endpoint's
# retransmission schedule and exchanges, and a block-wise download, on the hub's runtime.
from protocol import codes, options
from protocol.block import Block2Download, decode_block, encode_block
from protocol.coap import ACK, CON, Message, decode
from protocol.endpoint import Endpoint, Response, Timeout

# Schedule with the extreme random draws: T0 = 2000 and 2999 ms, doubling, 4 retransmits.
for r16, t0 in ((0, 2000), (0xFFFF, 2999)):
    ep = Endpoint(getrandbits=lambda n, r=r16: r if n == 16 else 7)
    token = ep.request(Message(CON, codes.GET).add(options.URI_PATH, "x"), 0)
    ep.datagrams()
    times = [0]
    while ep.next_timeout() is not None:
        now = ep.next_timeout()
        ep.tick(now)
        if ep.datagrams():
            times.append(now)
    assert times == [0, t0, 3 * t0, 7 * t0, 15 * t0], times
    assert now == 31 * t0
    ev = ep.next_event()
    assert isinstance(ev, Timeout) and ev.token == token

# Empty ACK, separate CON response ACKed, its retransmission re-ACKed but not re-delivered.
ep = Endpoint()
token = ep.request(Message(CON, codes.GET), 0)
req = decode(ep.datagrams()[0])
ep.receive(Message(ACK, 0, req.mid).encode(), 5)
sep = Message(CON, codes.CONTENT, 0x4242, token, payload=b"late").encode()
ep.receive(sep, 100)
assert decode(ep.datagrams()[0]).mtype == ACK
assert ep.next_event().message.payload == b"late"
ep.receive(sep, 2100)
assert decode(ep.datagrams()[0]).mid == 0x4242
assert ep.next_event() is None

# Block2 download through the endpoint, server reducing the block size to 256.
BODY = bytes(range(256)) * 20
ep = Endpoint()
dl = Block2Download(Message(CON, codes.GET).add(options.URI_PATH, "ota"))
out = bytearray()
now = 0
while not dl.done:
    ep.request(dl.next_request(), now)
    req = decode(ep.datagrams()[0])
    num, _, szx = decode_block(req.get_uint(options.BLOCK2))
    start = num << (szx + 4)
    szx = min(szx, 4)
    chunk = BODY[start : start + (16 << szx)]
    resp = Message(ACK, codes.CONTENT, req.mid, req.token, payload=chunk)
    resp.add(options.BLOCK2, encode_block(start >> (szx + 4), start + len(chunk) < len(BODY), szx))
    ep.receive(resp.encode(), now)
    ev = ep.next_event()
    assert isinstance(ev, Response)
    offset, data = dl.feed(ev.message)
    assert offset == len(out)
    out += data
    now += 10
assert bytes(out) == BODY and dl.szx == 4
print("OK")
