"""Block-wise transfers (RFC 7959) against a small in-test server that follows §2."""

import random

import pytest

from protocol import codes, options
from protocol.block import (
    Block1Upload,
    Block2Download,
    BlockError,
    ETagChanged,
    decode_block,
    encode_block,
    szx_for,
)
from protocol.coap import ACK, CON, Message, decode

BODY = random.Random(7).randbytes(5000)


def _request():
    return Message(CON, codes.GET).add(options.URI_PATH, "ota").add(options.URI_PATH, "image")


def serve_block2(req, body, etag=b"v1", max_szx=6):
    """A server that honours Block2, may use smaller blocks, and tags its representation."""
    req = decode(req.encode())  # what the server sees is what went over the wire
    num, _, szx = decode_block(req.get_uint(options.BLOCK2, 6))
    offset = num * (16 << szx)
    szx = min(szx, max_szx)
    size = 16 << szx
    chunk = body[offset : offset + size]
    resp = Message(ACK, codes.CONTENT, req.mid, req.token, payload=chunk)
    resp.add(options.ETAG, etag)
    resp.add(options.BLOCK2, encode_block(offset // size, offset + size < len(body), szx))
    if req.get(options.SIZE2) is not None:
        resp.add(options.SIZE2, len(body))
    return decode(resp.encode())


def _download(dl, body, out=b"", **kw):
    out = bytearray(out)
    requests = 0
    while not dl.done:
        offset, data = dl.feed(serve_block2(dl.next_request(), body, **kw))
        assert offset == len(out)
        out += data
        requests += 1
    return bytes(out), requests


def test_rfc7959_2_2_block_option_values():
    # "2:0/1/128" and "2:4/0/32" from RFC 7959's figures, and the 3-byte maximum.
    assert encode_block(0, True, 3) == 0x0B
    assert encode_block(4, False, 1) == 0x41
    assert decode_block(0x0B) == (0, True, 3)
    assert decode_block(encode_block((1 << 20) - 1, True, 6)) == ((1 << 20) - 1, True, 6)
    with pytest.raises(BlockError):
        decode_block(0x0F)  # SZX 7 is reserved
    with pytest.raises(BlockError):
        encode_block(1 << 20, False, 0)


def test_szx_for_picks_the_largest_block_that_fits():
    assert [szx_for(n) for n in (16, 31, 32, 100, 1024, 5000)] == [0, 0, 1, 2, 6, 6]


def test_download_is_byte_identical_and_learns_size_and_etag():
    dl = Block2Download(_request())
    data, requests = _download(dl, BODY)
    assert data == BODY
    assert requests == 5  # 4 x 1024 + 904
    assert (dl.size, dl.etag) == (len(BODY), b"v1")
    first = dl.request
    assert first.get(options.BLOCK2) is None  # the template is not modified


def test_server_reducing_the_block_size_is_followed():
    dl = Block2Download(_request(), szx=6)
    data, requests = _download(dl, BODY, max_szx=2)
    assert data == BODY
    assert requests == -(-len(BODY) // 64)
    assert dl.szx == 2


def test_resume_from_saved_progress():
    dl = Block2Download(_request(), szx=4)
    out = bytearray()
    for _ in range(10):
        out += dl.feed(serve_block2(dl.next_request(), BODY))[1]
    saved = (dl.num, dl.szx, dl.etag)  # what the OTA updater keeps on flash
    resumed = Block2Download(_request(), szx=saved[1], num=saved[0], etag=saved[2])
    assert resumed.offset == len(out)
    data, requests = _download(resumed, BODY, out)
    assert data == BODY
    assert requests == -(-(len(BODY) - 10 * 256) // 256)  # only the missing blocks


def test_changed_resource_mid_transfer_is_detected():
    dl = Block2Download(_request())
    dl.feed(serve_block2(dl.next_request(), BODY))
    changed = bytes(reversed(BODY))
    with pytest.raises(ETagChanged):
        dl.feed(serve_block2(dl.next_request(), changed, etag=b"v2"))


def test_resume_against_a_changed_resource_is_detected():
    dl = Block2Download(_request(), szx=6, num=2, etag=b"v1")
    with pytest.raises(ETagChanged):
        dl.feed(serve_block2(dl.next_request(), BODY, etag=b"v2"))


def test_server_without_block_support_sends_everything():
    dl = Block2Download(_request())
    req = dl.next_request()
    offset, data = dl.feed(Message(ACK, codes.CONTENT, req.mid, req.token, payload=b"small"))
    assert (offset, data, dl.done) == (0, b"small", True)


def test_error_response_and_wrong_block_raise():
    dl = Block2Download(_request())
    with pytest.raises(BlockError) as e:
        dl.feed(Message(ACK, codes.NOT_FOUND))
    assert e.value.response.code == codes.NOT_FOUND
    wrong = Message(ACK, codes.CONTENT, payload=bytes(1024))
    wrong.add(options.BLOCK2, encode_block(3, True, 6))
    with pytest.raises(BlockError):
        Block2Download(_request()).feed(wrong)
    short = Message(ACK, codes.CONTENT, payload=bytes(10))
    short.add(options.BLOCK2, encode_block(0, True, 6))  # more=1 needs a full block
    with pytest.raises(BlockError):
        Block2Download(_request()).feed(short)


class Block1Server:
    """Reassembles Block1 uploads in order; may ask for smaller blocks (RFC 7959 §2.5)."""

    def __init__(self, max_szx=6, too_large_above=None):
        self.body = bytearray()
        self.max_szx = max_szx
        self.too_large_above = too_large_above
        self.size1 = None

    def handle(self, req):
        req = decode(req.encode())
        num, more, szx = decode_block(req.get_uint(options.BLOCK1))
        ack = req.mid, req.token
        if self.too_large_above is not None and szx > self.too_large_above:
            resp = Message(ACK, codes.REQUEST_ENTITY_TOO_LARGE, *ack)
            return resp.add(options.BLOCK1, encode_block(0, False, self.too_large_above))
        if num == 0:
            self.body = bytearray()
            self.size1 = req.get_uint(options.SIZE1)
        assert num * (16 << szx) == len(self.body)
        self.body += req.payload
        code = codes.CONTINUE if more else codes.CHANGED
        resp = Message(ACK, code, *ack)
        return resp.add(options.BLOCK1, encode_block(num, more, min(szx, self.max_szx)))


def _upload(up, server):
    rounds = 0
    while not up.feed(server.handle(up.next_request())):
        rounds += 1
    return rounds + 1


def test_upload_is_reassembled_exactly():
    server = Block1Server()
    up = Block1Upload(Message(CON, codes.POST), BODY, request_tag=b"t1")
    assert _upload(up, server) == 5
    assert bytes(server.body) == BODY and server.size1 == len(BODY)
    assert up.response.code == codes.CHANGED


def test_upload_follows_a_smaller_size_from_the_server():
    server = Block1Server(max_szx=3)
    up = Block1Upload(Message(CON, codes.POST), BODY, szx=6)
    rounds = _upload(up, server)
    assert bytes(server.body) == BODY
    assert rounds == 1 + -(-(len(BODY) - 1024) // 128)


def test_upload_restarts_smaller_after_4_13():
    server = Block1Server(too_large_above=2)
    up = Block1Upload(Message(CON, codes.POST), BODY, szx=6)
    _upload(up, server)
    assert bytes(server.body) == BODY and up.szx == 2


def test_upload_refused_raises_with_the_response():
    up = Block1Upload(Message(CON, codes.POST), BODY)
    up.next_request()
    with pytest.raises(BlockError) as e:
        up.feed(Message(ACK, codes.FORBIDDEN))
    assert e.value.response.code == codes.FORBIDDEN


def test_small_upload_is_one_request():
    server = Block1Server()
    up = Block1Upload(Message(CON, codes.POST), b"hello")
    req = up.next_request()
    assert decode_block(req.get_uint(options.BLOCK1)) == (0, False, 6)
    assert up.feed(server.handle(req)) and bytes(server.body) == b"hello"
