"""The sans-IO client endpoint (RFC 7252 §4, §5.3): retransmission, matching, dedup."""

import random

import pytest

from protocol import codes
from protocol.coap import ACK, CON, NON, RST, Message, decode
from protocol.endpoint import Endpoint, Reset, Response, Timeout
from protocol.errors import CoAPError


def _ep(seed=1, **kw):
    return Endpoint(getrandbits=random.Random(seed).getrandbits, **kw)


def _get(mtype=CON):
    return Message(mtype, codes.GET).add(11, "x")


def _sent(ep):
    return [decode(d) for d in ep.datagrams()]


def _events(ep):
    out = []
    while (ev := ep.next_event()) is not None:
        out.append(ev)
    return out


def _run_to_timeout(ep):
    """Drive the clock from one deadline to the next; returns the send times."""
    times = [0]
    ep.datagrams()
    while ep.next_timeout() is not None:
        now = ep.next_timeout()
        ep.tick(now)
        if ep.datagrams():
            times.append(now)
    return times, now


@pytest.mark.parametrize("r16, t0", [(0, 2000), (0xFFFF, 2999), (0x8000, 2500)])
def test_rfc7252_4_8_retransmission_schedule(r16, t0):
    # Initial timeout in [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR], then doubling;
    # MAX_RETRANSMIT = 4 retransmissions, give up after the fifth timeout.
    ep = Endpoint(getrandbits=lambda n: r16 if n == 16 else 7)
    token = ep.request(_get(), 0)
    times, end = _run_to_timeout(ep)
    assert times == [0, t0, 3 * t0, 7 * t0, 15 * t0]
    assert end == 31 * t0
    [ev] = _events(ep)
    assert isinstance(ev, Timeout) and ev.token == token
    assert ep.pending() == 0


def test_initial_timeouts_are_random_within_bounds():
    seen = set()
    for seed in range(50):
        ep = _ep(seed)
        ep.request(_get(), 1000)
        t = ep.next_timeout() - 1000
        assert 2000 <= t <= 3000
        seen.add(t)
    assert len(seen) > 40


def test_retransmissions_repeat_the_same_bytes():
    ep = _ep()
    ep.request(_get(), 0)
    first = ep.datagrams()
    ep.tick(ep.next_timeout())
    assert ep.datagrams() == first


def test_piggybacked_response_is_delivered_and_stops_retransmission():
    ep = _ep()
    token = ep.request(_get(), 0)
    [req] = _sent(ep)
    assert req.mtype == CON and req.token == token
    ep.receive(Message(ACK, codes.CONTENT, req.mid, token, payload=b"hi").encode(), 10)
    [ev] = _events(ep)
    assert isinstance(ev, Response) and ev.message.payload == b"hi"
    assert ep.next_timeout() is None
    # The same ACK again (duplicated by the network) is ignored.
    ep.receive(Message(ACK, codes.CONTENT, req.mid, token, payload=b"hi").encode(), 20)
    assert _events(ep) == [] and ep.datagrams() == []


def test_empty_ack_then_separate_con_response_is_acked_and_delivered_once():
    ep = _ep()
    token = ep.request(_get(), 0)
    [req] = _sent(ep)
    ep.receive(Message(ACK, codes.EMPTY, req.mid).encode(), 5)
    assert _events(ep) == []
    ep.tick(60_000)  # no retransmission after the empty ACK
    assert ep.datagrams() == []
    sep = Message(CON, codes.CONTENT, 0x4242, token, payload=b"late").encode()
    ep.receive(sep, 200)
    [ack] = _sent(ep)
    assert (ack.mtype, ack.code, ack.mid, ack.token) == (ACK, codes.EMPTY, 0x4242, b"")
    [ev] = _events(ep)
    assert ev.message.payload == b"late"
    # Our ACK was lost, so the server retransmits: acknowledge again, deliver nothing.
    ep.receive(sep, 2200)
    [ack] = _sent(ep)
    assert (ack.mtype, ack.mid) == (ACK, 0x4242)
    assert _events(ep) == []


def test_separate_response_before_the_ack_completes_the_request():
    ep = _ep()
    token = ep.request(_get(), 0)
    ep.datagrams()
    ep.receive(Message(NON, codes.CONTENT, 9, token, payload=b"x").encode(), 5)
    [ev] = _events(ep)
    assert isinstance(ev, Response)
    assert ep.next_timeout() is None and ep.datagrams() == []


def test_separate_response_times_out_after_max_transmit_wait():
    ep = _ep(ack_timeout=100)
    token = ep.request(_get(), 0)
    [req] = _sent(ep)
    ep.receive(Message(ACK, codes.EMPTY, req.mid).encode(), 10)
    assert ep.next_timeout() == 10 + int(100 * 31 * 1.5)  # MAX_TRANSMIT_WAIT
    ep.tick(ep.next_timeout())
    [ev] = _events(ep)
    assert isinstance(ev, Timeout) and ev.token == token


def test_reset_is_surfaced():
    ep = _ep()
    token = ep.request(_get(), 0)
    [req] = _sent(ep)
    ep.receive(Message(RST, codes.EMPTY, req.mid).encode(), 5)
    [ev] = _events(ep)
    assert isinstance(ev, Reset) and ev.token == token
    assert ep.pending() == 0


def test_non_request_is_sent_once_and_answered_by_non():
    ep = _ep(response_timeout=5000)
    token = ep.request(_get(NON), 0)
    [req] = _sent(ep)
    assert req.mtype == NON
    ep.tick(4999)
    assert ep.datagrams() == []
    ep.receive(Message(NON, codes.CONTENT, 77, token, payload=b"n").encode(), 4000)
    [ev] = _events(ep)
    assert ev.message.payload == b"n"
    assert ep.datagrams() == []  # NON responses are not acknowledged


def test_non_request_without_answer_times_out():
    ep = _ep(response_timeout=5000)
    token = ep.request(_get(NON), 0)
    ep.datagrams()
    ep.tick(5000)
    [ev] = _events(ep)
    assert isinstance(ev, Timeout) and ev.token == token
    assert ep.datagrams() == []


def test_con_response_with_unknown_token_is_reset():
    ep = _ep()
    ep.receive(Message(CON, codes.CONTENT, 5, b"zz").encode(), 0)
    [rst] = _sent(ep)
    assert (rst.mtype, rst.mid) == (RST, 5)
    assert _events(ep) == []


def test_ping_is_answered_with_reset():
    ep = _ep()
    ep.receive(Message(CON, codes.EMPTY, 0x0102).encode(), 0)
    [rst] = _sent(ep)
    assert (rst.mtype, rst.mid) == (RST, 0x0102)


def test_con_response_with_unknown_critical_option_is_rejected():
    ep = _ep()
    token = ep.request(_get(), 0)
    ep.datagrams()
    bad = Message(CON, codes.CONTENT, 5, token, options=[(2049, b"")]).encode()
    ep.receive(bad, 1)
    [rst] = _sent(ep)
    assert (rst.mtype, rst.mid) == (RST, 5)
    assert _events(ep) == [] and ep.pending() == 1


def test_message_ids_increment_from_a_random_start_and_wrap():
    ep = Endpoint(getrandbits=lambda n: (1 << n) - 2, nstart=3)
    mids = []
    for _ in range(3):
        ep.request(Message(NON, codes.GET), 0)
    mids = [m.mid for m in _sent(ep)]
    assert mids == [0xFFFF, 0, 1]


def test_tokens_are_unique_and_of_the_configured_length():
    ep = _ep(nstart=100, token_length=8)
    tokens = {ep.request(_get(NON), 0) for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) == 8 for t in tokens)


def test_nstart_1_holds_the_next_request_until_the_first_is_acknowledged():
    ep = _ep()
    ep.request(_get(), 0)
    t2 = ep.request(_get(), 0)
    [first] = _sent(ep)
    ep.receive(Message(ACK, codes.EMPTY, first.mid).encode(), 10)
    [second] = _sent(ep)
    assert second.token == t2


def test_cancel_stops_retransmission_without_event():
    ep = _ep()
    token = ep.request(_get(), 0)
    ep.datagrams()
    ep.cancel(token)
    assert ep.next_timeout() is None
    assert _events(ep) == []


def test_request_refuses_a_response_code():
    with pytest.raises(CoAPError):
        _ep().request(Message(CON, codes.CONTENT), 0)
