# A tiny fleet for tests on MicroPython (and CPython): one hub's OSCORE context, the
# server side from protocol/, on a non-blocking UDP socket, answering t, hb and c as
# protocol/README.md says. Piggy-backed responses only; `drop` loses the next requests.
import asyncio
import socket

from protocol import cbor, coap, codes, options, senml
from protocol.errors import OSCOREError
from protocol.oscore import Context, EchoRequired


class MiniFleet:
    def __init__(self, secret, salt, hub_sid, port, config=None, now=1767225600, fresh=False):
        # fresh: a fleet that lost its replay window and must ask for Echo first (B.1.2)
        self.ctx = Context(secret, b"", hub_sid, salt, window_known=not fresh)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        self.sock.setblocking(False)
        self.config = config  # a configuration map, or None
        self.now = now
        self.records = {}  # s -> resolved records
        self.copies = 0
        self.heartbeats = []
        self.drop = 0
        self.refuse_t = None  # a code to answer t with instead of 2.04

    def _handle(self, inner):
        path = "/".join(v.decode() for v in inner.get_all(options.URI_PATH))
        if path == "t":
            q = inner.get(options.URI_QUERY).decode()
            seq = int(q[2:])
            if self.refuse_t is not None:
                return self.refuse_t, b"", None
            self.copies += 1
            if seq not in self.records:
                self.records[seq] = senml.decode(inner.payload)
            return codes.CHANGED, b"", None
        if path == "hb":
            self.heartbeats.append(cbor.loads(inner.payload))
            reply = {1: self.now}
            if self.config is not None:
                reply[2] = self.config["v"]
            return codes.CHANGED, cbor.dumps(reply), None
        if path == "c" and self.config is not None:
            if inner.get(options.ETAG) == self.config["v"]:
                return codes.VALID, b"", self.config["v"]
            return codes.CONTENT, cbor.dumps(self.config), self.config["v"]
        return codes.NOT_FOUND, b"", None

    def serve_one(self):
        try:
            data, addr = self.sock.recvfrom(1152)
        except OSError:
            return False
        if self.drop:
            self.drop -= 1
            return True
        msg = coap.decode(data)
        try:
            inner, binding = self.ctx.unprotect_request(msg)
        except EchoRequired as e:
            self.sock.sendto(e.response.encode(), addr)
            return True
        except OSCOREError:
            return True
        code, payload, etag = self._handle(inner)
        resp = coap.response_to(msg, code, payload)
        if etag is not None:
            resp.add(options.ETAG, etag)
        self.sock.sendto(self.ctx.protect_response(resp, binding).encode(), addr)
        return True

    async def run(self):
        while True:
            while self.serve_one():
                pass
            await asyncio.sleep_ms(1)

    def events(self, kind):
        out = []
        for seq in sorted(self.records):
            for r in self.records[seq]:
                if r["n"].endswith("/" + kind):
                    out.append((seq, r))
        return out
