"""libcoap's coap-client (Debian package libcoap3-bin) against a tiny server built on
protocol/'s message decoder and encoder."""

import random
import shutil
import socket
import subprocess
import threading

import pytest

from protocol import coap, codes, contentformat, options
from protocol.block import decode_block, encode_block
from protocol.errors import CoAPError

BODY = random.Random(11).randbytes(5000).hex().encode()  # text, so stdout compares cleanly
CLIENT = next(
    (
        shutil.which(n)
        for n in ("coap-client", "coap-client-notls", "coap-client-openssl")
        if shutil.which(n)
    ),
    None,
)


def handle(data):
    """Answer one datagram the way a minimal CoAP server would."""
    try:
        req = coap.decode(data)
    except CoAPError as e:
        return coap.error_reply(data, e)
    if req.mtype != coap.CON or not codes.is_request(req.code):
        return None
    path = req.path()
    if req.code != codes.GET:
        return coap.response_to(req, codes.METHOD_NOT_ALLOWED).encode()
    if path == "/hello":
        resp = coap.response_to(req, codes.CONTENT, b"hello from portineria")
        return resp.add(options.CONTENT_FORMAT, contentformat.TEXT).encode()
    if path == "/big":
        num, _, szx = decode_block(req.get_uint(options.BLOCK2, 6))
        szx = min(szx, 5)  # answer with at most 512-byte blocks: the client must follow
        start = num * (16 << szx)
        chunk = BODY[start : start + (16 << szx)]
        resp = coap.response_to(req, codes.CONTENT, chunk)
        resp.add(options.BLOCK2, encode_block(num, start + len(chunk) < len(BODY), szx))
        return resp.encode()
    return coap.response_to(req, codes.NOT_FOUND).encode()


@pytest.fixture
def server():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(2048)
            except TimeoutError:
                continue
            reply = handle(data)
            if reply is not None:
                sock.sendto(reply, addr)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"coap://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    t.join()
    sock.close()


def coap_client(*args):
    assert CLIENT, "coap-client missing: apt-get install libcoap3-bin"
    proc = subprocess.run([CLIENT, "-B", "5", *args], capture_output=True, timeout=20, check=False)
    return proc.stdout, proc.stderr


def test_libcoap_gets_our_payload(server):
    out, err = coap_client("-m", "get", server + "/hello")
    assert out.rstrip(b"\n") == b"hello from portineria", err


def test_libcoap_block2_download_from_our_server(server):
    out, err = coap_client("-m", "get", "-b", "1024", server + "/big")
    assert out.rstrip(b"\n") == BODY, err


def test_libcoap_sees_our_4_04(server):
    out, err = coap_client("-m", "get", server + "/nope")
    assert b"4.04" in out + err


def test_libcoap_unknown_critical_option_gets_4_02(server):
    out, err = coap_client("-m", "get", "-O", "2049,x", server + "/hello")
    assert b"4.02" in out + err
    assert b"hello" not in out
