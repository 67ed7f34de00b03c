"""Property and fuzz tests: nothing but CoAPError escapes the decoder, the endpoint never
raises on what the network hands it, and our bytes agree with aiocoap's."""

import random

import aiocoap
from aiocoap.optiontypes import OpaqueOption
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import codes, options
from protocol.coap import ACK, CON, NON, Message, decode
from protocol.endpoint import Endpoint
from protocol.errors import CoAPError

h = bytes.fromhex
SEEDS = [
    h("44015d1f00003974396c6f63616c686f737483747631"),
    h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e"),
    h("64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106"),
    h("50010001bd00") + b"a" * 13 + h("de0b001f") + b"p" * 300,
]
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "set"]))
        i = draw(st.integers(0, len(data)))
        if kind == "flip" and i < len(data):
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif i < len(data):
            data[i] = draw(st.sampled_from([0x0D, 0x0E, 0x0F, 0xD0, 0xE0, 0xF0, 0xFF, 0xDD]))
    return bytes(data)


def _decode_or_coap_error(data):
    try:
        return decode(data)
    except CoAPError:
        return None


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_coap_error(data):
    _decode_or_coap_error(data)


@FAST
@given(mutated())
def test_mutated_messages_raise_only_coap_error(data):
    m = _decode_or_coap_error(data)
    if m is not None:
        assert decode(m.encode()) == m  # whatever we accept, we can re-send faithfully


_UNKNOWN_ELECTIVE = [n for n in range(2, 3000, 2) if n not in options.REGISTRY][:40]


@st.composite
def messages(draw):
    m = Message(
        draw(st.sampled_from([CON, NON, ACK])),
        draw(st.sampled_from([codes.GET, codes.POST, codes.CONTENT, codes.NOT_FOUND])),
        draw(st.integers(0, 0xFFFF)),
        draw(st.binary(max_size=8)),
        payload=draw(st.binary(max_size=40)),
    )
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            m.add(options.URI_PATH, draw(st.text(max_size=20)))
        elif kind == 1:
            m.add(options.ETAG, draw(st.binary(min_size=1, max_size=8)))
        elif kind == 2:
            m.add(draw(st.sampled_from(_UNKNOWN_ELECTIVE)), draw(st.binary(max_size=300)))
        else:
            m.set(options.BLOCK2, draw(st.integers(0, (1 << 24) - 1)) & ~7 | 6)
    return m


@FAST
@given(messages())
def test_round_trip(m):
    assert decode(m.encode()) == m


@FAST
@given(messages())
def test_bytes_agree_with_aiocoap(m):
    theirs = aiocoap.Message.decode(m.encode())
    assert (theirs.mtype, theirs.code, theirs.mid, theirs.token, theirs.payload) == (
        m.mtype,
        m.code,
        m.mid,
        m.token,
        m.payload,
    )
    assert [(o.number, o.encode()) for o in theirs.opt.option_list()] == m.options
    # and the other way round: what aiocoap encodes we decode to the same message
    back = aiocoap.Message(code=m.code, payload=m.payload)
    back.mtype, back.mid, back.token = aiocoap.Type(m.mtype), m.mid, m.token
    for n, v in m.options:
        back.opt.add_option(OpaqueOption(n, v))
    assert decode(back.encode()) == m


@st.composite
def network_inputs(draw):
    """Datagrams a hostile or broken network could deliver while requests are pending."""
    out = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            out.append(draw(st.binary(max_size=60)))
        elif kind == 1:
            out.append(draw(mutated()))
        else:
            out.append(draw(messages()).encode())
    return out


@FAST
@given(network_inputs(), st.integers(0, 2**32 - 1))
def test_endpoint_never_raises_and_only_sends_valid_messages(datagrams, seed):
    ep = Endpoint(getrandbits=random.Random(seed).getrandbits, nstart=2, token_length=1)
    ep.request(Message(CON, codes.GET), 0)
    ep.request(Message(NON, codes.POST, payload=b"x"), 0)
    now = 0
    for d in datagrams:
        now += 700
        ep.receive(d, now)
        ep.tick(now)
    while ep.next_timeout() is not None:  # run out the clock: every request ends
        ep.tick(ep.next_timeout())
    for d in ep.datagrams():
        decode(d)
    while ep.next_event() is not None:
        pass
    assert ep.pending() == 0
