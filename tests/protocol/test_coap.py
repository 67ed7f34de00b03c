"""CoAP message codec (RFC 7252 §3, §5.4, §5.10) against exact bytes and aiocoap."""

import pytest

from protocol import coap, codes, options
from protocol.coap import ACK, CON, NON, RST, Message, decode, error_reply
from protocol.errors import BadOption, CoAPError

h = bytes.fromhex


def test_rfc8613_c4_unprotected_request():
    data = h("44015d1f00003974396c6f63616c686f737483747631")
    m = decode(data)
    assert (m.mtype, m.code, m.mid, m.token) == (CON, codes.GET, 0x5D1F, h("00003974"))
    assert m.options == [(options.URI_HOST, b"localhost"), (options.URI_PATH, b"tv1")]
    assert m.payload == b""
    assert m.encode() == data


def test_rfc8613_c4_protected_request_carries_oscore_option():
    data = h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e")
    m = decode(data)
    assert m.code == codes.POST
    assert m.get(options.OSCORE) == h("0914")
    assert m.payload == h("612f1092f1776f1c1668b3825e")
    assert m.encode() == data


def test_rfc8613_c7_responses():
    plain = h("64455d1f00003974ff48656c6c6f20576f726c6421")
    m = decode(plain)
    assert (m.mtype, m.code, m.payload) == (ACK, codes.CONTENT, b"Hello World!")
    assert m.encode() == plain
    protected = h("64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106")
    m = decode(protected)
    assert m.options == [(options.OSCORE, b"")]  # an empty OSCORE option is legal
    assert m.encode() == protected


def test_rfc7252_3_1_extended_delta_and_length_forms():
    m = Message(NON, codes.GET, 1)
    m.add(options.URI_PATH, "a" * 13)  # delta 11 inline, length 13 -> 1-byte extension
    m.add(options.PROXY_URI, "p" * 300)  # delta 24 -> 1 byte, length 300 -> 2 bytes
    m.add(2000, b"")  # delta 1965 -> 2-byte extension
    expected = (
        h("50010001")
        + h("bd00")
        + b"a" * 13
        + h("de0b001f")
        + b"p" * 300
        + bytes([0xE0, (1965 - 269) >> 8, (1965 - 269) & 0xFF])
    )
    assert m.encode() == expected
    assert decode(expected) == m


def test_payload_marker_with_empty_payload_is_a_format_error():
    with pytest.raises(CoAPError):
        decode(h("40010001ff"))


@pytest.mark.parametrize(
    "data",
    [
        h("400100"),  # shorter than the header
        h("80010001"),  # version 2
        h("49010001") + bytes(9),  # token length 9 is reserved
        h("44010001aabb"),  # token cut short
        h("40010001f0"),  # delta nibble 15 without the marker
        h("400100010f"),  # length nibble 15
        h("40010001d0"),  # 1-byte delta extension missing
        h("40010001e000"),  # 2-byte delta extension cut
        h("40010001b3616263"[:-2]),  # option value runs past the end
        h("41000001aa"),  # Empty message with a token
        h("40000001ff00"),  # Empty message with a payload
        h("40200001"),  # reserved code class 1
        h("40e00001"),  # reserved code class 7
    ],
)
def test_malformed_messages_raise_coap_error(data):
    with pytest.raises(CoAPError):
        decode(data)


def test_every_truncation_is_an_error_or_a_shorter_message():
    data = h("44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e")
    for n in range(len(data)):
        try:
            decode(data[:n])
        except CoAPError:
            pass


def test_unrecognised_critical_option_is_bad_option_4_02():
    with pytest.raises(BadOption) as e:
        decode(Message(CON, codes.GET, 1, options=[(2049, b"x")]).encode())
    assert e.value.code == codes.BAD_OPTION


def test_unrecognised_elective_option_is_kept_for_the_application_to_ignore():
    m = decode(Message(CON, codes.GET, 1, options=[(2048, b"x")]).encode())
    assert m.get(2048) == b"x"


@pytest.mark.parametrize(
    "opts",
    [
        [(options.URI_HOST, b"")],  # below Uri-Host's minimum length
        [(options.ACCEPT, b"\x00\x00\x01")],  # Accept longer than 2 bytes
        [(options.ACCEPT, b"\x01"), (options.ACCEPT, b"\x02")],  # non-repeatable, critical
        [(options.URI_PATH, b"\xff\xfe")],  # not UTF-8 (the aiocoap log flood, design.md)
        [(options.IF_NONE_MATCH, b"\x00")],  # must be empty
        [(options.BLOCK2, b"\x00\x00\x00\x00")],
    ],
)
def test_malformed_critical_options_are_bad_option(opts):
    with pytest.raises(BadOption):
        decode(Message(CON, codes.GET, 1, options=opts).encode())


def test_malformed_elective_options_are_dropped():
    opts = [
        (options.ETAG, bytes(9)),  # ETag is at most 8 bytes
        (options.CONTENT_FORMAT, b"\x3c"),
        (options.CONTENT_FORMAT, b"\x32"),  # second occurrence of a non-repeatable
        (options.MAX_AGE, b"\x01"),
    ]
    m = decode(Message(CON, codes.GET, 1, options=opts).encode())
    assert m.options == [(options.CONTENT_FORMAT, b"\x3c"), (options.MAX_AGE, b"\x01")]


# RFC 7252 §5.10 table, RFC 7641, RFC 7959 §2.1/§4, RFC 8613 §2, RFC 9175, RFC 7967:
# number: (critical, unsafe, no-cache-key)
_TABLE = {
    1: (True, False, False),
    3: (True, True, False),
    4: (False, False, False),
    5: (True, False, False),
    6: (False, True, False),
    7: (True, True, False),
    8: (False, False, False),
    9: (True, False, False),
    11: (True, True, False),
    12: (False, False, False),
    14: (False, True, False),
    15: (True, True, False),
    17: (True, False, False),
    20: (False, False, False),
    23: (True, True, False),
    27: (True, True, False),
    28: (False, False, True),
    35: (True, True, False),
    39: (True, True, False),
    60: (False, False, True),
    252: (False, False, True),
    258: (False, True, False),
    292: (False, False, False),
}


@pytest.mark.parametrize("number", sorted(_TABLE))
def test_option_properties_follow_the_registry(number):
    assert number in options.REGISTRY
    got = (
        options.is_critical(number),
        options.is_unsafe(number),
        options.is_no_cache_key(number),
    )
    assert got == _TABLE[number]


def test_agreed_constants():
    assert (codes.GET, codes.POST, codes.CONTENT, codes.CONTINUE, codes.NOT_FOUND) == (
        1,
        2,
        0x45,
        0x5F,
        0x84,
    )
    assert (options.OSCORE, options.ECHO, options.REQUEST_TAG, options.NO_RESPONSE) == (
        9,
        252,
        292,
        258,
    )
    assert codes.dotted(codes.NOT_FOUND) == "4.04"
    assert codes.dotted(codes.CONTINUE) == "2.31"


def test_message_option_api():
    m = Message()
    m.add(options.URI_QUERY, "b=2")
    m.add(options.URI_PATH, "ota")
    m.add(options.URI_QUERY, "a=1")
    m.add(options.URI_PATH, bytearray(b"image"))
    m.add(options.CONTENT_FORMAT, 0)
    m.add(options.SIZE1, 70000)
    assert [n for n, _ in m.options] == [11, 11, 12, 15, 15, 60]
    assert m.get_all(options.URI_PATH) == [b"ota", b"image"]
    assert m.get(options.URI_QUERY) == b"b=2"
    assert m.get(options.CONTENT_FORMAT) == b""  # uint 0 is the empty string
    assert m.get_uint(options.SIZE1) == 70000
    assert m.get_uint(options.MAX_AGE, 60) == 60
    assert m.get(options.ETAG) is None
    assert m.path() == "/ota/image"
    m.remove(options.URI_QUERY)
    assert m.get_all(options.URI_QUERY) == []
    m.set(options.URI_PATH, "x")
    assert m.get_all(options.URI_PATH) == [b"x"]


def test_uint_encoding_is_minimal():
    assert [coap.encode_uint(n) for n in (0, 1, 255, 256, 0x10000)] == [
        b"",
        b"\x01",
        b"\xff",
        b"\x01\x00",
        b"\x01\x00\x00",
    ]
    assert coap.decode_uint(b"\x00\x01\x00") == 256
    assert coap.decode_uint(b"") == 0


@pytest.mark.parametrize(
    "msg",
    [
        Message(CON, codes.GET, 1, token=bytes(9)),
        Message(CON, codes.EMPTY, 1, payload=b"x"),
        Message(ACK, codes.EMPTY, 1, token=b"t"),
        Message(CON, codes.GET, 0x10000),
        Message(4, codes.GET, 1),
        Message(CON, codes.GET, 1, options=[(11, b"a"), (3, b"b")]),
        Message(CON, codes.GET, 1, options=[(11, bytes(65805))]),
    ],
)
def test_encode_refuses_what_it_cannot_send(msg):
    with pytest.raises(CoAPError):
        msg.encode()


def _error_reply(data):
    try:
        decode(data)
    except CoAPError as e:
        return error_reply(data, e)
    raise AssertionError("datagram decoded")


def test_error_reply_piggybacks_4_02_on_a_con_request_with_bad_critical_option():
    data = Message(CON, codes.GET, 0x1234, b"tk", options=[(2049, b"")]).encode()
    r = decode(_error_reply(data))
    assert (r.mtype, r.code, r.mid, r.token) == (ACK, codes.BAD_OPTION, 0x1234, b"tk")


def test_error_reply_piggybacks_4_00_on_a_malformed_con_request():
    r = decode(_error_reply(h("4201abcd7a7aff")))
    assert (r.mtype, r.code, r.mid, r.token) == (ACK, codes.BAD_REQUEST, 0xABCD, b"zz")


@pytest.mark.parametrize(
    "data",
    [
        h("5201abcd7a7aff"),  # NON request, marker with empty payload
        h("4045abcd0f"),  # CON response with a reserved length nibble
        h("4901abcd") + bytes(9),  # CON request whose token cannot be read
    ],
)
def test_error_reply_resets_other_readable_messages(data):
    r = decode(_error_reply(data))
    assert (r.mtype, r.code, r.mid, r.token) == (RST, codes.EMPTY, 0xABCD, b"")


@pytest.mark.parametrize("data", [h("6001abcdff"), h("7001abcdff"), h("8001abcdff"), h("40ff")])
def test_error_reply_stays_silent_for_ack_rst_other_versions_and_runts(data):
    assert _error_reply(data) is None


def test_response_to_piggybacks_on_con_and_uses_new_mid_for_non():
    req = Message(CON, codes.GET, 7, b"t")
    r = coap.response_to(req, codes.CONTENT, b"x")
    assert (r.mtype, r.mid, r.token, r.payload) == (ACK, 7, b"t", b"x")
    r = coap.response_to(Message(NON, codes.GET, 7, b"t"), codes.CONTENT, mid=9)
    assert (r.mtype, r.mid, r.token) == (NON, 9, b"t")
