"""The hub's one conversation with the fleet: CoAP over a non-blocking UDP socket, every
request OSCORE-protected under the hub's context (protocol/README.md).

    up = Uplink(ident)                      # an identity.Identity
    resp = await up.request(codes.POST, "t", payload, query="s=7", cf=112)
    # -> the inner (decrypted) response Message, or None: timeout, reset, refused
    resp = await up.send(msg)               # the same for a Message built by the caller

Requests go one at a time (NSTART 1; a lock orders the callers). While an exchange is
open the task waits on the event loop for a datagram or the endpoint's next timeout
(retransmission), whichever comes first, and never polls: a hub waiting on a slow fleet
costs no CPU, and a reply is read the moment it arrives. OSCORE sequence numbers are
persisted through SeqStore to `oscore.seq`.
"""

import asyncio
import sys
import time

from protocol import options
from protocol.coap import CON, Message
from protocol.endpoint import Endpoint, Response
from protocol.errors import ProtocolError
from protocol.oscore import Context

try:
    from micropython import const
except ImportError:

    def _identity(x):
        return x

    const = _identity

# The longest single wait: the app's watchdog hears from a waiting task at least this
# often (app._STUCK_MS is far longer).
_WAIT_MAX_MS = const(1000)
_MAX_DATAGRAM = const(1152)
_MICROPYTHON = sys.implementation.name == "micropython"


class SeqStore:
    """OSCORE's sequence-number storage hook: one number in a small file, replaced by
    writing aside and renaming, so a power cut leaves the old or the new number."""

    def __init__(self, path="oscore.seq"):
        self.path = path

    def load(self):
        try:
            with open(self.path) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def save(self, n):
        import os

        with open(self.path + ".tmp", "w") as f:
            f.write(str(n))
        try:
            os.rename(self.path + ".tmp", self.path)
        except OSError:  # FAT: rename does not replace
            os.remove(self.path)
            os.rename(self.path + ".tmp", self.path)


class Clock:
    """Milliseconds since start that never wrap, from ticks_ms (which wraps): what the
    endpoint needs. Call now() at least once every few days."""

    def __init__(self):
        self._last = time.ticks_ms()
        self._ms = 0

    def now(self):
        t = time.ticks_ms()
        self._ms += time.ticks_diff(t, self._last)
        self._last = t
        return self._ms


class Uplink:
    def __init__(self, ident, clock=None, sock_factory=None, storage=None):
        self._fleet = (ident.host, ident.port)  # not ident itself: see app.boot()
        self.ctx = Context(
            ident.master_secret,
            ident.sender_id,
            ident.recipient_id,
            ident.master_salt,
            storage=SeqStore() if storage is None else storage,
        )
        self.ep = Endpoint(ack_timeout=ident.ack_timeout)
        self.clock = clock or Clock()
        self.beat = _no_beat  # called while waiting, so the watchdog sees a live task
        self.last_error = None
        self.sent = 0
        self.failed = 0
        self._factory = sock_factory or _udp_socket
        self._sock = None
        self._lock = asyncio.Lock()
        # Made once: recv() would allocate a datagram's worth on every read, which
        # churns and fragments a small heap.
        self._rx = bytearray(_MAX_DATAGRAM)
        self._rxv = memoryview(self._rx)

    def close(self):
        """Drop the socket (the network went away); the next request makes a new one."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    async def request(self, code, path, payload=b"", query=None, cf=None, etag=None):
        """One confirmable request; the inner response, or None (see last_error)."""
        msg = Message(CON, code)
        msg.add(options.URI_PATH, path)
        if etag is not None:
            msg.add(options.ETAG, etag)
        if cf is not None:
            msg.add(options.CONTENT_FORMAT, cf)
        if query is not None:
            msg.add(options.URI_QUERY, query)
        msg.payload = payload
        return await self.send(msg)

    async def send(self, msg):
        """One confirmable request built by the caller (e.g. a Block2 GET), the link held
        for it alone; the inner response, or None (see last_error)."""
        await self._lock.acquire()
        try:
            return await self._request(msg)
        finally:
            self._lock.release()

    async def _request(self, msg):
        # A fleet that lost its replay window answers the first request with an Echo
        # challenge (RFC 8613 B.1.2): one retry carrying it, under a new sequence number.
        for _ in range(2):
            try:
                outer, binding = self.ctx.protect_request(msg)
                reply = await self._exchange(outer)
                if reply is None:
                    self.failed += 1
                    return None
                inner = self.ctx.unprotect_response(reply, binding)
            except (ProtocolError, OSError) as e:
                self.failed += 1
                self.last_error = "uplink: " + str(e)
                self.close()
                return None
            retry = self.ctx.echo_retry(msg, inner)
            if retry is None:
                self.sent += 1
                return inner
            msg = retry
        self.last_error = "uplink: fleet asked for Echo twice"
        return None

    def _socket(self):
        if self._sock is None:
            self._sock = self._factory(*self._fleet)
        return self._sock

    async def _exchange(self, outer):
        sock = self._socket()
        ep = self.ep
        token = ep.request(outer, self.clock.now())
        try:
            while True:
                for d in ep.datagrams():
                    try:
                        sock.send(d)
                    except OSError:
                        pass  # no route right now: the retransmission will try again
                ev = ep.next_event()
                while ev is not None:
                    if ev.token == token:
                        if isinstance(ev, Response):
                            return ev.message
                        self.last_error = "uplink: no answer from the fleet"
                        return None
                    ev = ep.next_event()
                due = ep.next_timeout()
                wait = _WAIT_MAX_MS
                if due is not None:
                    wait = max(0, min(wait, due - self.clock.now()))
                n = await self._recv(sock, wait)
                now = self.clock.now()
                if n:
                    ep.receive(bytes(self._rxv[:n]), now)
                ep.tick(now)
                self.beat()
        finally:
            ep.cancel(token)

    async def _recv(self, sock, ms):
        """Wait up to ms for a datagram; read it into _rx and return its length, or None
        when none came (or the socket reported an error, e.g. ICMP unreachable)."""
        try:
            if _MICROPYTHON:
                await asyncio.wait_for_ms(_polled(sock), ms)
                return sock.readinto(self._rx)
            await _readable(sock, ms)
            return sock.recv_into(self._rx)
        except asyncio.TimeoutError:  # noqa: UP041 (MicroPython has no builtin TimeoutError)
            return None
        except OSError:
            return None  # spurious wake-up (EAGAIN), or an ICMP error: keep waiting


def _polled(sock):
    # MicroPython: park this task in the loop's poller until sock is readable, as
    # asyncio's Stream.readinto does, without loading asyncio.stream (0.9 KB of heap on
    # a 32-bit hub) for the one call.
    yield asyncio.core._io_queue.queue_read(sock)  # pyright: ignore[reportAttributeAccessIssue]


async def _readable(sock, ms):
    # CPython (the emulator): the event loop's selector watches the socket. MicroPython's
    # asyncio has no such call, hence the stubs' complaint.
    loop = asyncio.get_running_loop()  # pyright: ignore[reportAttributeAccessIssue]
    woken = loop.create_future()

    def wake():
        if not woken.done():
            woken.set_result(None)

    loop.add_reader(sock, wake)
    timer = loop.call_later(ms / 1000, wake)
    try:
        await woken
    finally:
        timer.cancel()
        loop.remove_reader(sock)


def _no_beat():
    pass


def _udp_socket(host, port):
    import socket

    addr = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0][-1]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect(addr)
    return s
