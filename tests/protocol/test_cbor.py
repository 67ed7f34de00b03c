"""protocol.cbor: RFC 8949 examples, strict bounded decoding, and agreement with cbor2."""

import math
import struct
import tracemalloc
from collections.abc import Mapping
from pathlib import Path

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import cbor
from protocol.cbor import MAX_DEPTH, UNDEFINED, Simple, Tag, decode_prefix, dumps, loads
from protocol.errors import CBORError, ProtocolError
from tests.mp.cbor_vectors import DECODE_ONLY, ROUNDTRIP, same
from tests.mpy import run_micropython

h = bytes.fromhex
MP_DIR = Path(__file__).resolve().parents[1] / "mp"


# ---- RFC 8949 Appendix A ----------------------------------------------------------


@pytest.mark.parametrize("hx,value", ROUNDTRIP, ids=[hx for hx, _ in ROUNDTRIP])
def test_rfc8949_appendix_a_both_ways(hx, value):
    assert same(loads(h(hx)), value)
    assert dumps(value) == h(hx)


@pytest.mark.parametrize("hx,value", DECODE_ONLY, ids=[hx for hx, _ in DECODE_ONLY])
def test_rfc8949_appendix_a_decode_only(hx, value):
    assert same(loads(h(hx)), value)


def test_rfc8949_appendix_a_and_strictness_on_micropython():
    res = run_micropython(path=MP_DIR / "cbor_appendix_a.py", heapsize="100K", paths=[MP_DIR])
    assert res.status == 0, res.output
    assert res.output.strip() == "OK"


# ---- strict decoding --------------------------------------------------------------

MALFORMED = {
    "empty": "",
    "truncated head argument": "1a0001",
    "truncated float": "fb3ff1",
    "reserved ai 28": "1c",
    "reserved ai 29": "3d",
    "reserved ai 30": "fe",
    "break outside indefinite": "ff",
    "break as map value": "bf01ff",
    "indefinite integer": "1f",
    "indefinite tag": "df",
    "simple in two-byte form": "f818",
    "string longer than input": "5b" + "ff" * 8,
    "text longer than input": "7a00010000" + "61" * 10,
    "array count past input": "9bffffffffffffffff00",
    "map count past input": "ba0000ffff0102",
    "truncated array": "830102",
    "truncated map": "a2010201",
    "tag without content": "c1",
    "duplicate key": "a201020103",
    "duplicate key indefinite map": "bf01020103ff",
    "unhashable array key": "a1800102",
    "unhashable map key": "a1a00102",
    "unhashable tagged array key": "a1c18001",
    "invalid utf-8 byte": "61ff",
    "overlong utf-8": "62c0af",
    "surrogate in utf-8": "63eda080",
    "past U+10FFFF": "64f4908080",
    "truncated utf-8 sequence": "62e282",
    "unterminated indefinite bytes": "5f4101",
    "unterminated indefinite array": "9f01",
    "text chunk in byte string": "5f6161ff",
    "nested indefinite chunk": "5f5f4101ffff",
    "bad chunk utf-8 split across chunks": "7f61e26282acff",
    "trailing bytes": "0000",
}


@pytest.mark.parametrize("hx", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_raises_cbor_error(hx):
    with pytest.raises(CBORError):
        loads(h(hx))


def test_cbor_error_is_a_protocol_error_with_bad_request_code():
    with pytest.raises(ProtocolError) as info:
        loads(b"\xff")
    assert info.value.code == 0x80


def test_non_shortest_heads_are_accepted():
    assert loads(h("1800")) == 0
    assert loads(h("1b0000000000000001")) == 1
    assert loads(h("5900026162")) == b"ab"


def test_claimed_lengths_never_allocate_beyond_the_input():
    # Heads that claim 2**64 bytes or items, with almost nothing after them.
    for hx in ("5bffffffffffffffff", "7bffffffffffffffff", "9bffffffffffffffff00", "bb" + "ff" * 8):
        tracemalloc.start()
        with pytest.raises(CBORError):
            loads(h(hx) + b"\x00" * 64)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 16_384, (hx, peak)


@pytest.mark.parametrize("opener", ["81", "a101", "c1", "9f", "bf01"])
def test_nesting_is_bounded_by_max_depth(opener):
    closer = "ff" if opener in ("9f", "bf01") else ""
    ok = opener * MAX_DEPTH + "00" + closer * MAX_DEPTH
    assert loads(h(ok)) is not None
    too_deep = opener * (MAX_DEPTH + 1) + "00" + closer * (MAX_DEPTH + 1)
    with pytest.raises(CBORError):
        loads(h(too_deep))


def test_absurd_nesting_fails_fast_without_recursion_error():
    with pytest.raises(CBORError):
        loads(b"\x81" * 100_000 + b"\x00")


def test_map_keys_that_python_conflates_are_refused():
    # 1, 1.0 and true are distinct CBOR keys but one Python dict key: refuse, don't merge.
    with pytest.raises(CBORError):
        loads(h("a20100f93c0000"))
    with pytest.raises(CBORError):
        loads(h("a20100f500"))


@pytest.mark.parametrize("data", [None, "00", 0, [0]])
def test_non_bytes_input_raises_cbor_error(data):
    with pytest.raises(CBORError):
        loads(data)


def test_bytearray_and_memoryview_input():
    assert loads(bytearray(h("820102"))) == [1, 2]
    assert loads(memoryview(h("00820102"))[1:]) == [1, 2]


def test_decode_prefix_walks_a_cbor_sequence():
    seq = dumps(1) + dumps({"a": [1, 2]}) + dumps(b"x")
    pos, got = 0, []
    while pos < len(seq):
        obj, pos = decode_prefix(seq, pos)
        got.append(obj)
    assert got == [1, {"a": [1, 2]}, b"x"]
    assert pos == len(seq)
    for bad in (len(seq), len(seq) + 5, -1):
        with pytest.raises(CBORError):
            decode_prefix(seq, bad)


# ---- encoding ---------------------------------------------------------------------


def test_tuples_encode_as_arrays():
    assert dumps((1, (2, 3))) == dumps([1, [2, 3]]) == h("8201820203")


def test_bools_encode_as_true_false_not_integers():
    assert dumps([True, False, 1, 0]) == h("84f5f40100")
    assert dumps({True: 1}) == h("a1f501")


def test_byte_like_values_encode_as_byte_strings():
    assert dumps(bytearray(b"\x01\x02")) == dumps(memoryview(b"\x01\x02")) == h("420102")


def test_map_encoding_is_deterministic():
    # Sorted by encoded key bytes (RFC 8949 §4.2.1), so 10 (0a) < 100 (1864) < -1 (20) < "a".
    assert dumps({"a": 0, -1: 0, 100: 0, 10: 0}) == h("a40a001864002000616100")
    assert dumps({"b": 1, "a": 2}) == dumps({"a": 2, "b": 1})


@pytest.mark.parametrize(
    "value",
    [2**64, -(2**64) - 1, {1, 2}, object(), 1j, "\ud800", Tag(-1, 0), Simple(20), Simple(24)],
    ids=repr,
)
def test_values_cbor_cannot_hold_raise_cbor_error(value):
    with pytest.raises(CBORError):
        dumps(value)


def test_encoding_depth_is_bounded_and_cycles_do_not_recurse_forever():
    ok = []
    for _ in range(MAX_DEPTH - 1):
        ok = [ok]
    assert loads(dumps(ok)) == ok
    with pytest.raises(CBORError):
        dumps([ok])
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(CBORError):
        dumps(cyclic)


def test_tag_and_simple_values():
    assert Tag(1, 2) == Tag(1, 2) and Tag(1, 2) != Tag(1, 3) and Tag(1, 2) != Tag(2, 2)
    assert loads(h("a1c10102")) == {Tag(1, 1): 2}
    assert loads(dumps(UNDEFINED)) == UNDEFINED == Simple(23)
    assert dumps(Simple(0)) == h("e0") and dumps(Simple(32)) == h("f820")


@pytest.mark.parametrize("x", [0.0, -0.0, 1.0, 65504.0, 65505.0, 2.0**-24, 2.0**-25, 1e-300])
def test_floats_take_the_shortest_exact_form(x):
    enc = dumps(x)
    assert same(loads(enc), x)
    assert enc == cbor2.dumps(x, canonical=True)


# ---- property tests ---------------------------------------------------------------

TAG_NUMBERS = st.one_of(  # tags cbor2 leaves as CBORTag, so the comparison is like for like
    st.integers(6, 24), st.integers(1005, 2**64 - 1).filter(lambda n: n != 55799)
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64 - 1),
    st.floats(),
    st.binary(max_size=40),
    st.text(max_size=20),
    st.sampled_from([UNDEFINED, Simple(0), Simple(19), Simple(32), Simple(255)]),
)
KEYS = st.one_of(st.integers(-(2**64), 2**64 - 1), st.text(max_size=8), st.binary(max_size=8))


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(KEYS, children, max_size=5),
        st.builds(Tag, TAG_NUMBERS, children),
    )


VALUES = st.recursive(SCALARS, _containers, max_leaves=20)
NO_MAPS = st.recursive(
    SCALARS.filter(lambda x: not isinstance(x, Simple)),
    lambda c: st.lists(c, max_size=5) | st.builds(Tag, TAG_NUMBERS, c),
    max_leaves=20,
)


def from_cbor2(x):
    """cbor2's decoded types mapped onto ours, for comparison with `same`."""
    if isinstance(x, cbor2.CBORTag):
        return Tag(x.tag, from_cbor2(x.value))
    if isinstance(x, cbor2.CBORSimpleValue):
        return Simple(x.value)
    if x is cbor2.undefined:
        return UNDEFINED
    if isinstance(x, list | tuple):
        return [from_cbor2(v) for v in x]
    if isinstance(x, Mapping):  # cbor2 may give a frozendict
        return {from_cbor2(k): from_cbor2(v) for k, v in x.items()}
    return x


def to_cbor2(x):
    if isinstance(x, Tag):
        return cbor2.CBORTag(x.tag, to_cbor2(x.value))
    if x == UNDEFINED:
        return cbor2.undefined
    if isinstance(x, Simple):
        return cbor2.CBORSimpleValue(x.value)
    if isinstance(x, list | tuple):
        return [to_cbor2(v) for v in x]
    if isinstance(x, dict):
        return {to_cbor2(k): to_cbor2(v) for k, v in x.items()}
    return x


def normal(x):
    """What our decoder gives back for x: tuples become lists."""
    if isinstance(x, Tag):
        return Tag(x.tag, normal(x.value))
    if isinstance(x, list | tuple):
        return [normal(v) for v in x]
    if isinstance(x, dict):
        return {k: normal(v) for k, v in x.items()}
    return x


@given(VALUES)
def test_our_encoding_decodes_identically_in_cbor2_and_ours(value):
    enc = dumps(value)
    assert same(from_cbor2(cbor2.loads(enc)), normal(value))
    assert same(loads(enc), normal(value))


@given(VALUES)
def test_cbor2_encoding_decodes_identically_in_ours(value):
    assert same(loads(cbor2.dumps(to_cbor2(value))), normal(value))


@given(NO_MAPS)
def test_encoding_is_byte_identical_to_cbor2_canonical(value):
    # cbor2 sorts map keys length-first (RFC 7049), we bytewise (RFC 8949), so no maps here.
    assert dumps(value) == cbor2.dumps(to_cbor2(value), canonical=True)


@st.composite
def mutated(draw):
    data = bytearray(dumps(draw(VALUES)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        i = draw(st.integers(0, len(data)))
        if op == "insert":
            data[i:i] = bytes([draw(st.integers(0, 255))])
        elif data and op == "flip":
            data[i % len(data)] ^= 1 << draw(st.integers(0, 7))
        elif data and op == "delete":
            del data[i % len(data)]
        elif op == "truncate":
            del data[i:]
    return bytes(data)


@settings(max_examples=400)
@given(st.binary(max_size=64) | mutated())
def test_arbitrary_bytes_raise_only_cbor_error(data):
    try:
        obj = loads(data)
    except CBORError:
        return
    # Whatever is accepted must mean the same thing once re-encoded.
    assert same(loads(dumps(obj)), obj)


_UTF8_BYTES = st.sampled_from(
    [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0]
    + [0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFF]
)


@settings(max_examples=400)
@given(st.lists(_UTF8_BYTES, max_size=12).map(bytes) | st.text().map(str.encode))
def test_hand_written_utf8_check_agrees_with_cpython(data):
    # MicroPython's decoder lets overlong forms and surrogates through, so the hub
    # relies on this check; CPython's strict decoder is the reference.
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    try:
        cbor._check_utf8(data)
        checked = True
    except CBORError:
        checked = False
    assert checked == valid


@given((st.floats(width=16) | st.floats(width=32) | st.floats()).filter(lambda x: x == x))
def test_hand_written_half_precision_matches_struct(x):
    # The hub cannot count on struct's "e" format; CPython's is the reference here.
    try:
        bits = struct.unpack(">H", struct.pack(">e", x))[0]
        exact = same(struct.unpack(">e", struct.pack(">H", bits))[0], x)
    except OverflowError:
        exact = False
    half = cbor._to_half(x)
    assert (half is not None) == exact
    if exact:
        assert half == bits
        assert same(cbor._from_half(half), x)


def test_half_precision_nan_and_infinities_decode():
    assert math.isnan(loads(h("f97e00"))) and math.isnan(loads(h("f9fe01")))
    assert loads(h("f97c00")) == math.inf and loads(h("f9fc00")) == -math.inf
