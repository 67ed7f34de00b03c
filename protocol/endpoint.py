# A sans-IO CoAP client endpoint for one peer (RFC 7252 §4, §5.3): message IDs, tokens,
# retransmission with randomised exponential back-off, piggy-backed and separate
# responses, Reset, duplicate detection. The caller owns the socket and the clock:
#
#     token = ep.request(msg, now)        # queue a request
#     ep.receive(datagram, now)           # feed every datagram from the peer
#     ep.tick(now)                        # call at ep.next_timeout() (or any time later)
#     for d in ep.datagrams(): sock.send(d)
#     while (ev := ep.next_event()) is not None: ...   # Response / Timeout / Reset
#
# `now` is a monotonic, non-wrapping time in milliseconds (not raw ticks_ms()).

import random

from protocol import codes
from protocol.coap import ACK, CON, RST, decode, error_reply
from protocol.errors import CoAPError

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


# RFC 7252 §4.8 transmission parameters (times in ms)
ACK_TIMEOUT = 2000
ACK_RANDOM_FACTOR = 1.5
MAX_RETRANSMIT = 4
NSTART = 1
_MAX_LATENCY = const(100_000)

# Exchange states: waiting for the ACK of a CON (retransmitting), or for the response itself
# (after an empty ACK, or for a NON request).
_WAIT_ACK = const(0)
_WAIT_RESPONSE = const(1)


class Response:
    """The response to the request with `token` (piggy-backed, separate CON or NON)."""

    def __init__(self, token, message):
        self.token = token
        self.message = message


class Timeout:
    """The request with `token` got no ACK after MAX_RETRANSMIT, or no response in time."""

    def __init__(self, token):
        self.token = token


class Reset:
    """The peer answered the request with `token` by a Reset: it could not process it."""

    def __init__(self, token):
        self.token = token


class _Exchange:
    def __init__(self, token, mid, datagram, con):
        self.token = token
        self.mid = mid
        self.datagram = datagram
        self.con = con
        self.state = _WAIT_ACK if con else _WAIT_RESPONSE
        self.sent = False
        self.deadline = 0
        self.timeout = 0
        self.tries = 0


class Endpoint:
    def __init__(
        self,
        getrandbits=None,
        ack_timeout=ACK_TIMEOUT,
        ack_random_factor=ACK_RANDOM_FACTOR,
        max_retransmit=MAX_RETRANSMIT,
        nstart=NSTART,
        token_length=4,
        response_timeout=None,
        dedup_slots=8,
    ):
        self._rand = getrandbits or random.getrandbits
        self._ack_timeout = ack_timeout
        self._spread = int(ack_timeout * (ack_random_factor - 1))
        self._max_retransmit = max_retransmit
        self._nstart = nstart
        self._token_length = token_length
        # MAX_TRANSMIT_SPAN/WAIT (RFC 7252 §4.8.2) scaled with the parameters given.
        span = int(ack_timeout * ((1 << max_retransmit) - 1) * ack_random_factor)
        wait = int(ack_timeout * ((2 << max_retransmit) - 1) * ack_random_factor)
        self._response_timeout = wait if response_timeout is None else response_timeout
        self._lifetime = span + 2 * _MAX_LATENCY + ack_timeout  # EXCHANGE_LIFETIME
        self._mid = self._rand(16)
        self._exchanges = {}  # token -> _Exchange, sent or waiting for an NSTART slot
        self._out = []
        self._events = []
        # Recently delivered peer message IDs, a fixed ring (RFC 7252 §4.5 deduplication).
        self._seen_mid = [-1] * dedup_slots
        self._seen_until = [0] * dedup_slots
        self._seen_next = 0

    # --- caller API -------------------------------------------------------------------

    def request(self, msg, now):
        """Queue request `msg` (CON or NON per msg.mtype); sets its message ID and, unless
        the caller chose one, its token. Returns the token that events will carry."""
        if not codes.is_request(msg.code):
            raise CoAPError("not a request code")
        token = msg.token
        if not token:
            token = self._new_token()
        elif token in self._exchanges:
            raise CoAPError("token already in use")
        msg.token = token
        msg.mid = self._next_mid()
        ex = _Exchange(token, msg.mid, msg.encode(), msg.mtype == CON)
        self._exchanges[token] = ex
        self._pump(now)
        return token

    def cancel(self, token):
        """Forget a request: no more retransmissions, and no event for it."""
        self._exchanges.pop(token, None)

    def receive(self, data, now):
        """Process one datagram from the peer. Never raises on bad input."""
        try:
            msg = decode(data)
        except CoAPError as e:
            reply = error_reply(data, e)
            if reply is not None:
                self._out.append(reply)
            return
        if msg.mtype >= ACK:
            self._on_ack_or_rst(msg, now)
        elif msg.code == codes.EMPTY or codes.is_request(msg.code):
            # A ping, or a request to a client-only endpoint: reject a CON with RST.
            if msg.mtype == CON:
                self._out.append(_empty(RST, msg.mid))
        else:
            self._on_separate(msg, now)

    def tick(self, now):
        """Retransmit or give up on whatever is due at `now`."""
        for ex in list(self._exchanges.values()):
            if not ex.sent or ex.deadline > now:
                continue
            if ex.state == _WAIT_ACK and ex.tries < self._max_retransmit:
                ex.tries += 1
                ex.timeout *= 2
                ex.deadline = now + ex.timeout
                self._out.append(ex.datagram)
            else:
                self._finish(ex, Timeout(ex.token), now)

    def next_timeout(self):
        """The time (ms) at which tick() next has work, or None when idle."""
        t = None
        for ex in self._exchanges.values():
            if ex.sent and (t is None or ex.deadline < t):
                t = ex.deadline
        return t

    def datagrams(self):
        """Datagrams to send to the peer now, oldest first."""
        out = self._out
        self._out = []
        return out

    def next_event(self):
        return self._events.pop(0) if self._events else None

    def pending(self):
        """How many requests are not finished yet."""
        return len(self._exchanges)

    # --- internals --------------------------------------------------------------------

    def _next_mid(self):
        self._mid = (self._mid + 1) & 0xFFFF
        return self._mid

    def _new_token(self):
        n = self._token_length
        v = self._rand(8 * n) if n <= 4 else self._rand(32) << (8 * n - 32) | self._rand(8 * n - 32)
        while True:
            token = v.to_bytes(n, "big")
            if token not in self._exchanges:
                return token
            v = (v + 1) & ((1 << 8 * n) - 1)  # taken: the next one is as unguessable

    def _outstanding(self):
        # RFC 7252 §4.7: a CON not yet acknowledged, or a NON not yet answered.
        n = 0
        for ex in self._exchanges.values():
            if ex.sent and (not ex.con or ex.state == _WAIT_ACK):
                n += 1
        return n

    def _pump(self, now):
        # Send queued requests while fewer than NSTART are outstanding.
        free = self._nstart - self._outstanding()
        for ex in self._exchanges.values():
            if free <= 0:
                return
            if not ex.sent:
                ex.sent = True
                free -= 1
                self._out.append(ex.datagram)
                if ex.con:
                    ex.timeout = self._ack_timeout + (self._rand(16) * self._spread >> 16)
                    ex.deadline = now + ex.timeout
                else:
                    ex.deadline = now + self._response_timeout

    def _finish(self, ex, event, now):
        del self._exchanges[ex.token]
        if event is not None:
            self._events.append(event)
        self._pump(now)

    def _on_ack_or_rst(self, msg, now):
        rst = msg.mtype == RST
        for ex in self._exchanges.values():
            # An ACK answers a CON; a Reset may answer a NON too.
            if ex.sent and ex.mid == msg.mid and (rst or ex.state == _WAIT_ACK):
                break
        else:
            return  # late or duplicate ACK/RST: silently ignored (RFC 7252 §4.2)
        if rst:
            self._finish(ex, Reset(ex.token), now)
        elif msg.code == codes.EMPTY:
            ex.state = _WAIT_RESPONSE  # separate response to follow
            ex.deadline = now + self._response_timeout
            self._pump(now)
        elif msg.token == ex.token:
            self._finish(ex, Response(ex.token, msg), now)

    def _on_separate(self, msg, now):
        con = msg.mtype == CON
        if self._seen(msg.mid, now):
            if con:  # our ACK was lost: acknowledge again, deliver nothing
                self._out.append(_empty(ACK, msg.mid))
            return
        ex = self._exchanges.get(msg.token)
        if ex is None or not ex.sent:
            if con:  # RFC 7252 §5.3.2: reject a response we cannot match
                self._out.append(_empty(RST, msg.mid))
            return
        if con:
            self._out.append(_empty(ACK, msg.mid))
        self._remember(msg.mid, now)
        self._finish(ex, Response(ex.token, msg), now)

    def _seen(self, mid, now):
        for i in range(len(self._seen_mid)):
            if self._seen_mid[i] == mid and self._seen_until[i] > now:
                return True
        return False

    def _remember(self, mid, now):
        i = self._seen_next
        self._seen_mid[i] = mid
        self._seen_until[i] = now + self._lifetime
        self._seen_next = (i + 1) % len(self._seen_mid)


def _empty(mtype, mid):
    return bytes((0x40 | mtype << 4, 0, mid >> 8, mid & 0xFF))
