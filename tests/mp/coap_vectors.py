# Run by tests/protocol/test_coap_mp.py under the real MicroPython: codec vectors.
from binascii import unhexlify as h

from protocol import codes, options
from protocol.coap import ACK, CON, NON, RST, Message, decode, error_reply
from protocol.errors import BadOption, CoAPError

# RFC 8613 C.4 unprotected and protected requests, C.7 responses
for v in (
    "44015d1f00003974396c6f63616c686f737483747631",
    "44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e",
    "64455d1f00003974ff48656c6c6f20576f726c6421",
    "64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106",
):
    data = h(v)
    assert decode(data).encode() == data, v
m = decode(h("44015d1f00003974396c6f63616c686f737483747631"))
assert (m.mtype, m.code, m.mid, m.token) == (CON, codes.GET, 0x5D1F, h("00003974"))
assert m.get(options.URI_HOST) == b"localhost" and m.path() == "/tv1"

# Extended delta/length forms (RFC 7252 §3.1)
m = Message(NON, codes.GET, 1)
m.add(options.URI_PATH, "a" * 13).add(options.PROXY_URI, "p" * 300).add(2000, b"")
want = (
    h("50010001bd00") + b"a" * 13 + h("de0b001f") + b"p" * 300 + bytes([0xE0, 0x06, 0xA0])
)  # delta 1965 - 269
assert m.encode() == want
assert decode(want) == m

# Malformed input raises CoAPError only
for bad in ("40010001ff", "400100", "80010001", "40010001f0", "41000001aa", "40e00001"):
    try:
        decode(h(bad))
        raise AssertionError(bad)
    except CoAPError:
        pass
# Not UTF-8 in Uri-Path, unknown critical option: 4.02
for opts in ([(options.URI_PATH, b"\xff\xfe")], [(2049, b"")]):
    data = Message(CON, codes.GET, 0x1234, b"tk", options=opts).encode()
    try:
        decode(data)
        raise AssertionError(opts)
    except BadOption as e:
        r = decode(error_reply(data, e))
        assert (r.mtype, r.code, r.mid, r.token) == (ACK, codes.BAD_OPTION, 0x1234, b"tk")
data = h("5201abcd7a7aff")
try:
    decode(data)
except CoAPError as e:
    assert decode(error_reply(data, e)).mtype == RST

# Mutations of a valid message never raise anything else
seed = bytearray(h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e"))
for i in range(len(seed)):
    for bit in range(8):
        d = bytearray(seed)
        d[i] ^= 1 << bit
        try:
            decode(bytes(d))
        except CoAPError:
            pass
print("OK")
