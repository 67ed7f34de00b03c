# OSCORE on MicroPython beyond the RFC vectors: a replay and a tampered byte are refused
# with OSCOREError, sequence numbers resume past the stored value, Echo retry works.
# Prints OK when all pass.

from protocol import coap, codes, options
from protocol.errors import OSCOREError
from protocol.oscore import Context

SECRET = bytes(range(1, 17))


class Flash:
    def __init__(self):
        self.value = None

    def load(self):
        return self.value

    def save(self, n):
        self.value = n


def refused(fn, msg):
    try:
        fn(msg)
    except OSCOREError as e:
        return e.code
    raise AssertionError("accepted")


flash = Flash()
hub = Context(SECRET, b"\x42", b"", storage=flash, k=8)
fleet = Context(SECRET, b"", b"\x42")
req = coap.Message(coap.CON, codes.POST, 9, b"tk", payload=b"reading")
req.add(options.URI_PATH, "t")
outer, binding = hub.protect_request(req)
wire = outer.encode()
inner, got = fleet.unprotect_request(coap.decode(wire))
assert inner.payload == b"reading" and inner.get(options.URI_PATH) == b"t"
assert refused(fleet.unprotect_request, coap.decode(wire)) == codes.UNAUTHORIZED
bad = bytearray(hub.protect_request(req)[0].encode())
bad[-1] ^= 1
assert refused(fleet.unprotect_request, coap.decode(bytes(bad))) == codes.BAD_REQUEST

challenge = coap.Message(coap.ACK, codes.UNAUTHORIZED, 9, b"tk").add(options.ECHO, b"e" * 8)
reply = fleet.protect_response(challenge, got)
retry = hub.echo_retry(req, hub.unprotect_response(coap.decode(reply.encode()), binding))
inner, _ = fleet.unprotect_request(coap.decode(hub.protect_request(retry)[0].encode()))
assert inner.get(options.ECHO) == b"e" * 8

for _ in range(10):
    hub.protect_request(req)
assert flash.value == 8  # 13 numbers used: saved before 0 and before 8
assert Context(SECRET, b"\x42", b"", storage=flash, k=8).sender_seq == 16
print("OK")
