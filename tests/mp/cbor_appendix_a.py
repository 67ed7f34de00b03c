# MicroPython: RFC 8949 Appendix A both ways, plus the strictness the hub relies on.
# Prints OK when every check passes; run by tests/protocol/test_cbor.py.

from cbor_vectors import DECODE_ONLY, ROUNDTRIP, same

from protocol.cbor import MAX_DEPTH, decode_prefix, dumps, loads
from protocol.errors import CBORError

h = bytes.fromhex

for hx, value in ROUNDTRIP:
    assert same(loads(h(hx)), value), hx
    assert dumps(value) == h(hx), hx
for hx, value in DECODE_ONLY:
    assert same(loads(h(hx)), value), hx

BAD = [
    "",  # empty
    "18",  # truncated argument
    "1c",  # reserved additional information 28
    "ff",  # break outside an indefinite item
    "1f",  # indefinite-length integer
    "f818",  # simple value below 32 in two-byte form
    "5b" + "ff" * 8,  # byte string longer than the input
    "9bffffffffffffffff00",  # array count longer than the input
    "a2010201",  # truncated map
    "a201020103",  # duplicate key
    "a1800102",  # unhashable key (array)
    "62c0af",  # overlong UTF-8
    "63eda080",  # UTF-16 surrogate in UTF-8
    "64f4908080",  # code point past U+10FFFF
    "5f4101",  # unterminated indefinite byte string
    "5f6161ff",  # text chunk in a byte string
    "0000",  # trailing byte
]
for hx in BAD:
    try:
        loads(h(hx))
    except CBORError:
        continue
    raise AssertionError("accepted " + hx)

deep = h("81" * MAX_DEPTH + "00")
assert loads(deep) == loads(dumps(loads(deep)))
for hx in ("81" * (MAX_DEPTH + 1) + "00", "9f" * (MAX_DEPTH + 1)):
    try:
        loads(h(hx))
        raise AssertionError("too deep accepted")
    except CBORError:
        pass

assert dumps((1, (2, 3))) == h("8201820203")
assert dumps([True, False, 1, 0]) == h("84f5f40100")
assert dumps(bytearray(b"\x01")) == dumps(memoryview(b"\x01")) == h("4101")
assert loads(h("63e282ac")) == "\u20ac"
seq = h("0161610a")  # 1, "a", 10 as a CBOR sequence
pos, got = 0, []
while pos < len(seq):
    v, pos = decode_prefix(seq, pos)
    got.append(v)
assert got == [1, "a", 10], got
print("OK")
