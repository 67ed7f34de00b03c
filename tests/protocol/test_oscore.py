"""OSCORE behaviour a hub and the fleet rely on: what is encrypted and what stays outside,
replay protection, request/response binding, sequence numbers that survive reboots,
Echo recovery, and that no input makes unprotect raise anything but a ProtocolError."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import cbor, coap, codes, options
from protocol.errors import OSCOREError, ProtocolError
from protocol.oscore import Context, EchoRequired, ReplayWindow, decode_option, encode_option
from tests.mpy import run_micropython

MP_DIR = Path(__file__).resolve().parents[1] / "mp"

SECRET = bytes(range(1, 17))
SALT = b"\x9e\x7c\xa9\x22\x23\x78\x63\x40"


def pair(**kw):
    """A hub (client) context and the matching fleet (server) context."""
    hub = Context(SECRET, b"\x42", b"", SALT, **kw)
    fleet = Context(SECRET, b"", b"\x42", SALT)
    return hub, fleet


def telemetry(payload=b"\xa1\x00\x01"):
    msg = coap.Message(coap.CON, codes.POST, 0x1234, b"\x01\x02")
    msg.add(options.URI_HOST, "fleet.example")
    msg.add(options.URI_PATH, "t")
    msg.add(options.URI_PATH, "h1")
    msg.add(options.CONTENT_FORMAT, 112)
    msg.add(options.URI_QUERY, "k=1")
    msg.payload = payload
    return msg


def test_request_round_trip_hides_path_code_and_payload():
    hub, fleet = pair()
    msg = telemetry(b"secret reading")
    outer, _ = hub.protect_request(msg)
    wire = outer.encode()
    assert outer.code == codes.POST
    assert [n for n, _ in outer.options] == [options.URI_HOST, options.OSCORE]
    for clear in (b"secret reading", b"h1", b"k=1"):
        assert clear not in wire
    inner, _ = fleet.unprotect_request(coap.decode(wire))
    assert inner == msg


def test_get_goes_out_as_post_and_response_as_changed():
    hub, fleet = pair()
    msg = coap.Message(coap.CON, codes.GET, 7, b"t").add(options.URI_PATH, "config")
    outer, req = hub.protect_request(msg)
    assert outer.code == codes.POST
    inner, got = fleet.unprotect_request(coap.decode(outer.encode()))
    assert inner.code == codes.GET and inner.path() == "/config"
    resp = coap.Message(coap.ACK, codes.CONTENT, 7, b"t", payload=b"\xa0")
    resp.add(options.CONTENT_FORMAT, 60)
    wire = fleet.protect_response(resp, got)
    assert wire.code == codes.CHANGED and wire.get(options.OSCORE) == b""
    back = hub.unprotect_response(coap.decode(wire.encode()), req)
    assert back == resp


def test_observe_uses_fetch_and_content_and_stays_visible_outside():
    hub, fleet = pair()
    msg = coap.Message(coap.CON, codes.GET, 1, b"o").add(options.OBSERVE, 0)
    outer, _ = hub.protect_request(msg.add(options.URI_PATH, "ota"))
    assert outer.code == codes.FETCH and outer.get(options.OBSERVE) == b""
    inner, req = fleet.unprotect_request(coap.decode(outer.encode()))
    assert inner.get_uint(options.OBSERVE) == 0
    note = coap.Message(coap.NON, codes.CONTENT, 2, b"o").add(options.OBSERVE, 5)
    assert fleet.protect_response(note, req, new_piv=True).code == codes.CONTENT


def test_unknown_outer_options_are_not_trusted():
    # Anything outside the ciphertext that is not class U is dropped on unprotect.
    hub, fleet = pair()
    outer, _ = hub.protect_request(telemetry())
    outer.add(options.URI_PATH, "evil")
    inner, _ = fleet.unprotect_request(coap.decode(outer.encode()))
    assert inner.get_all(options.URI_PATH) == [b"t", b"h1"]


def test_replayed_request_is_rejected_with_401():
    hub, fleet = pair()
    wire = hub.protect_request(telemetry())[0].encode()
    fleet.unprotect_request(coap.decode(wire))
    with pytest.raises(OSCOREError) as e:
        fleet.unprotect_request(coap.decode(wire))
    assert e.value.code == codes.UNAUTHORIZED


def test_reordered_requests_inside_the_window_are_accepted_once():
    hub, fleet = pair()
    wires = [hub.protect_request(telemetry())[0].encode() for _ in range(40)]
    fleet.unprotect_request(coap.decode(wires[39]))
    for w in wires[8:39]:  # 31 older numbers: all inside the 32-wide window
        fleet.unprotect_request(coap.decode(w))
    for w in wires[:8] + wires[8:40]:
        with pytest.raises(OSCOREError):
            fleet.unprotect_request(coap.decode(w))


def test_forged_request_does_not_move_the_window():
    hub, fleet = pair()
    w1 = hub.protect_request(telemetry())[0]
    hub.sender_seq = 1000
    forged = hub.protect_request(telemetry())[0]
    forged.payload = forged.payload[:-1] + bytes([forged.payload[-1] ^ 1])
    with pytest.raises(OSCOREError):
        fleet.unprotect_request(coap.decode(forged.encode()))
    fleet.unprotect_request(coap.decode(w1.encode()))  # seq 0 is still acceptable


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 100), max_size=60))
def test_replay_window_matches_a_reference_model(seqs):
    w = ReplayWindow()
    accepted = set()
    top = -1
    for s in seqs:
        expected = s not in accepted and s > top - 32
        assert w.check(s) == expected
        if expected:
            w.accept(s)
            accepted.add(s)
            top = max(top, s)


def test_tampered_byte_anywhere_in_the_ciphertext_fails():
    hub, fleet = pair()
    outer, _ = hub.protect_request(telemetry())
    for i in range(len(outer.payload)):
        bad = bytearray(outer.payload)
        bad[i] ^= 0x40
        m = coap.decode(outer.encode())
        m.payload = bytes(bad)
        with pytest.raises(OSCOREError) as e:
            fleet.unprotect_request(m)
        assert e.value.code == codes.BAD_REQUEST  # RFC 8613 §8.2 step 6


def test_unknown_kid_and_malformed_option_codes():
    hub, fleet = pair()
    other = Context(SECRET, b"\x43", b"", SALT)
    with pytest.raises(OSCOREError) as e:
        fleet.unprotect_request(coap.decode(other.protect_request(telemetry())[0].encode()))
    assert e.value.code == codes.UNAUTHORIZED
    outer = hub.protect_request(telemetry())[0]
    for value, code in ((b"\x29\x00\x42", codes.BAD_OPTION), (b"\x08\x42", codes.BAD_OPTION)):
        outer.remove(options.OSCORE)
        outer.add(options.OSCORE, value)
        with pytest.raises(OSCOREError) as e:
            fleet.unprotect_request(coap.decode(outer.encode()))
        assert e.value.code == code
    with pytest.raises(OSCOREError):
        fleet.unprotect_request(telemetry())  # not protected at all


def test_response_is_bound_to_its_request():
    hub, fleet = pair()
    out_a, req_a = hub.protect_request(telemetry())
    out_b, req_b = hub.protect_request(telemetry())
    _, got_a = fleet.unprotect_request(out_a)
    fleet.unprotect_request(out_b)
    resp = fleet.protect_response(coap.Message(coap.ACK, codes.CHANGED), got_a)
    with pytest.raises(OSCOREError):
        hub.unprotect_response(coap.decode(resp.encode()), req_b)
    assert hub.unprotect_response(coap.decode(resp.encode()), req_a).code == codes.CHANGED


def test_unprotected_error_from_the_server_raises():
    hub, _ = pair()
    _, req = hub.protect_request(telemetry())
    plain = coap.Message(coap.ACK, codes.UNAUTHORIZED, payload=b"Security context not found")
    with pytest.raises(OSCOREError, match="4.01"):
        hub.unprotect_response(plain, req)


class Flash:
    """Storage hook standing in for the hub's flash: counts writes."""

    def __init__(self):
        self.value = None
        self.writes = 0

    def load(self):
        return self.value

    def save(self, n):
        self.value = n
        self.writes += 1


def test_sequence_number_is_written_once_every_k_messages():
    flash = Flash()
    hub, _ = pair(storage=flash, k=10)
    for _ in range(95):
        hub.protect_request(telemetry())
    assert flash.writes == 10  # before 0, 10, ..., 90
    assert flash.value == 90


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(1, 12))
def test_no_sequence_number_is_reused_across_reboots(runs, k):
    # Each run sends some messages, then the hub loses power (RAM state gone).
    flash = Flash()
    seen = set()
    for n in runs:
        hub, _ = pair(storage=flash, k=k)
        for _ in range(n):
            _, (_, piv, _) = hub.protect_request(telemetry())
            assert piv not in seen
            seen.add(piv)


def test_echo_recovery_resends_with_the_echo_inside():
    # The fleet lost its replay window: it answers 4.01 with Echo (Appendix B.1.2);
    # the hub resends the same request carrying that Echo, protected.
    hub, fleet = pair()
    msg = telemetry()
    outer, req = hub.protect_request(msg)
    _, got = fleet.unprotect_request(outer)
    challenge = coap.Message(coap.ACK, codes.UNAUTHORIZED, outer.mid, outer.token)
    challenge.add(options.ECHO, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    reply = fleet.protect_response(challenge, got)
    inner = hub.unprotect_response(coap.decode(reply.encode()), req)
    retry = hub.echo_retry(msg, inner)
    assert retry is not None and msg.get(options.ECHO) is None
    outer2, _ = hub.protect_request(retry)
    assert options.ECHO not in [n for n, _ in outer2.options]
    inner2, _ = fleet.unprotect_request(coap.decode(outer2.encode()))
    assert inner2.get(options.ECHO) == b"\x01\x02\x03\x04\x05\x06\x07\x08"
    assert inner2.get_all(options.URI_PATH) == msg.get_all(options.URI_PATH)
    ok = coap.Message(coap.ACK, codes.CHANGED)
    assert hub.echo_retry(msg, ok) is None


@settings(max_examples=200, deadline=None)
@given(
    piv=st.binary(max_size=5),
    kid=st.none() | st.binary(max_size=7),
    ctx=st.none() | st.binary(max_size=20),
)
def test_option_value_round_trips(piv, kid, ctx):
    assert decode_option(encode_option(piv, kid, ctx)) == (piv, kid, ctx)


def test_identifiers_longer_than_the_nonce_allows_are_refused():
    with pytest.raises(ProtocolError):
        Context(SECRET, bytes(8), b"")


def test_proxy_uri_is_refused():
    hub, _ = pair()
    msg = telemetry().add(options.PROXY_URI, "coap://x/y")
    with pytest.raises(ProtocolError):
        hub.protect_request(msg)


def _valid_wires():
    hub, fleet = pair()
    outer, req = hub.protect_request(telemetry())
    _, got = fleet.unprotect_request(outer)
    resp = fleet.protect_response(coap.Message(coap.ACK, codes.CONTENT, payload=b"x"), got, True)
    return outer.encode(), resp.encode(), req


REQ_WIRE, RESP_WIRE, REQ = _valid_wires()


def mutated(wire):
    return st.one_of(
        st.binary(max_size=80),
        st.builds(
            lambda i, b: wire[:i] + bytes([b]) + wire[i + 1 :],
            st.integers(0, len(wire) - 1),
            st.integers(0, 255),
        ),
        st.builds(lambda i: wire[:i], st.integers(0, len(wire))),
        st.builds(lambda i, extra: wire[:i] + extra, st.integers(0, len(wire)), st.binary()),
    )


@settings(max_examples=1500, deadline=None)
@given(st.one_of(mutated(REQ_WIRE), mutated(RESP_WIRE)))
def test_unprotect_raises_only_protocol_errors(data):
    _, fleet = pair()
    hub = Context(SECRET, b"\x42", b"", SALT)
    for unprotect in (fleet.unprotect_request, lambda m: hub.unprotect_response(m, REQ)):
        try:
            unprotect(coap.decode(data))
        except ProtocolError:
            pass


@settings(max_examples=500, deadline=None)
@given(plain=st.binary(max_size=40), as_response=st.booleans())
def test_any_authentic_plaintext_gives_a_message_or_a_protocol_error(plain, as_response):
    # A peer holding the keys may still send garbage inside the ciphertext.
    hub, fleet = pair()
    sender, receiver = (fleet, hub) if as_response else (hub, fleet)
    piv = b"\x07"
    nonce = sender.nonce(sender.sender_id, piv)
    value = encode_option(piv, None if as_response else sender.sender_id)
    outer = coap.Message(coap.CON, codes.POST, 1, b"", [(options.OSCORE, value)])
    request = REQ if as_response else (sender.sender_id, piv, nonce)
    outer.payload = sender._send.encrypt(nonce, plain, sender.aad(request))
    try:
        if as_response:
            msg = receiver.unprotect_response(coap.decode(outer.encode()), REQ)
        else:
            msg, _ = receiver.unprotect_request(coap.decode(outer.encode()))
    except ProtocolError:
        return
    assert msg.code == plain[0]
    msg.encode()  # whatever got through is a well-formed message


def test_replay_tamper_seqno_and_echo_on_micropython():
    res = run_micropython(path=MP_DIR / "oscore_behaviour.py", heapsize="100K", paths=[MP_DIR])
    assert res.status == 0 and res.output.strip().endswith("OK"), res.output


@pytest.mark.parametrize("seq", [0, 255, 256, 65535, 65536, 2**32, 2**40 - 1])
def test_every_partial_iv_length_round_trips_with_the_rfc_aad(seq):
    hub, fleet = pair()
    hub.sender_seq = seq
    outer, req = hub.protect_request(telemetry())
    ext = cbor.dumps([1, [10], req[0], req[1], b""])
    assert hub.aad(req) == cbor.dumps(["Encrypt0", b"", ext])  # RFC 8613 §5.4
    assert int.from_bytes(req[1], "big") == seq
    assert fleet.unprotect_request(coap.decode(outer.encode()))[0] == telemetry()


def test_sender_sequence_numbers_run_out_at_2_to_the_40():
    hub, _ = pair()
    hub.sender_seq = 2**40
    with pytest.raises(OSCOREError):
        hub.protect_request(telemetry())


def test_server_without_its_replay_window_demands_echo_first():
    # Requests captured before a fleet restart must not be accepted after it (B.1.2).
    hub, fleet = pair()
    sent = [hub.protect_request(telemetry()) for _ in range(3)]
    old = [outer.encode() for outer, _ in sent]
    fleet.unprotect_request(coap.decode(old[0]))
    restarted = Context(SECRET, b"", b"\x42", SALT, window_known=False)
    with pytest.raises(EchoRequired) as e:
        restarted.unprotect_request(coap.decode(old[1]))
    assert e.value.code == codes.UNAUTHORIZED
    # The 4.01 is protected and bound to the request; the hub retries with the Echo.
    challenge = hub.unprotect_response(coap.decode(e.value.response.encode()), sent[1][1])
    retry = hub.echo_retry(telemetry(), challenge)
    inner, _ = restarted.unprotect_request(coap.decode(hub.protect_request(retry)[0].encode()))
    assert inner.get(options.ECHO) == challenge.get(options.ECHO)
    for w in old:
        with pytest.raises(OSCOREError):
            restarted.unprotect_request(coap.decode(w))
    restarted.unprotect_request(coap.decode(hub.protect_request(telemetry())[0].encode()))
