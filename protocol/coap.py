# CoAP messages (RFC 7252 §3): encode and decode, plus the server-side answer to a
# datagram that does not decode. Sans-IO: bytes in, Message out.

from protocol import codes, options
from protocol.errors import BadOption, CoAPError

CON, NON, ACK, RST = 0, 1, 2, 3

_MARKER = 0xFF
_MAX_TOKEN = 8
_TYPE_NAMES = ("CON", "NON", "ACK", "RST")


def encode_uint(n):
    """Minimal big-endian unsigned encoding (RFC 7252 §3.2): 0 is the empty string."""
    if n < 0:
        raise CoAPError("negative uint option")
    k = 0
    m = n
    while m:  # MicroPython's int has no bit_length()
        m >>= 8
        k += 1
    return n.to_bytes(k, "big")


def decode_uint(b):
    return int.from_bytes(b, "big") if b else 0


class Message:
    """One CoAP message. `options` is a list of (number, bytes), sorted by number, with
    repeats kept in the order they were added."""

    def __init__(self, mtype=CON, code=0, mid=0, token=b"", options=None, payload=b""):
        self.mtype = mtype
        self.code = code
        self.mid = mid
        self.token = token
        self.options = [] if options is None else options
        self.payload = payload

    def add(self, number, value):
        if isinstance(value, int):
            value = encode_uint(value)
        elif isinstance(value, str):
            value = value.encode()
        else:
            value = bytes(value)
        opts = self.options
        i = len(opts)
        # Insert after the last option with the same or a lower number (stable for repeats).
        while i and opts[i - 1][0] > number:
            i -= 1
        opts.insert(i, (number, value))
        return self

    def set(self, number, value):
        """Replace every occurrence of `number` by one option."""
        self.remove(number)
        return self.add(number, value)

    def get(self, number, default=None):
        for n, v in self.options:
            if n == number:
                return v
        return default

    def get_all(self, number):
        return [v for n, v in self.options if n == number]

    def get_uint(self, number, default=None):
        v = self.get(number)
        return default if v is None else decode_uint(v)

    def remove(self, number):
        self.options = [o for o in self.options if o[0] != number]

    def path(self):
        """The Uri-Path options joined as a path, e.g. '/ota/image'."""
        return "/" + "/".join(str(v, "utf-8") for v in self.get_all(options.URI_PATH))

    def encode(self):
        tok = self.token
        if len(tok) > _MAX_TOKEN:
            raise CoAPError("token longer than 8 bytes")
        if not (0 <= self.mtype <= 3 and 0 <= self.code <= 0xFF and 0 <= self.mid <= 0xFFFF):
            raise CoAPError("type, code or message ID out of range")
        if self.code == codes.EMPTY and (tok or self.options or self.payload):
            raise CoAPError("an Empty message carries no token, options or payload")
        buf = bytearray(4)
        buf[0] = 0x40 | self.mtype << 4 | len(tok)
        buf[1] = self.code
        buf[2] = self.mid >> 8
        buf[3] = self.mid & 0xFF
        buf += tok
        encode_options(self.options, buf)
        if self.payload:
            buf.append(_MARKER)
            buf += self.payload
        return bytes(buf)

    def __eq__(self, other):
        return (
            isinstance(other, Message)
            and (self.mtype, self.code, self.mid, self.token, self.payload)
            == (other.mtype, other.code, other.mid, other.token, other.payload)
            and self.options == other.options
        )

    def __repr__(self):
        opts = [(options.name(n), v) for n, v in self.options]
        return (
            f"<Message {_TYPE_NAMES[self.mtype & 3]} {codes.dotted(self.code)} mid={self.mid}"
            f" token={self.token!r} options={opts!r} payload={len(self.payload)} bytes>"
        )


def _put_nibble(v):
    # Option delta/length: 0-12 inline, 13 -> one extra byte, 14 -> two (RFC 7252 §3.1).
    if v < 13:
        return v
    if v < 269:
        return 13
    if v < 65805:
        return 14
    raise CoAPError("option delta or length too large")


def encode_options(opts, buf):
    """Append the encoded options to bytearray `buf` (OSCORE reuses this for inner options)."""
    prev = 0
    for number, value in opts:
        delta = number - prev
        if delta < 0:
            raise CoAPError("options are not sorted by number")
        prev = number
        length = len(value)
        dn = _put_nibble(delta)
        ln = _put_nibble(length)
        buf.append(dn << 4 | ln)
        for n, v in ((dn, delta), (ln, length)):
            if n == 13:
                buf.append(v - 13)
            elif n == 14:
                v -= 269
                buf.append(v >> 8)
                buf.append(v & 0xFF)
        buf += value
    return buf


def _get_ext(nib, data, pos, end):
    if nib < 13:
        return nib, pos
    if nib == 13 and pos < end:
        return data[pos] + 13, pos + 1
    if nib == 14 and pos + 1 < end:
        return (data[pos] << 8 | data[pos + 1]) + 269, pos + 2
    raise CoAPError("truncated or reserved (15) option delta/length")


def decode_options(data, pos=0):
    """Parse options from `pos` to the end; returns (options, payload). Raises CoAPError
    on a malformed sequence, including a payload marker followed by nothing."""
    if not isinstance(data, bytes):
        data = bytes(data)
    end = len(data)
    opts = []
    number = 0
    while pos < end:
        b = data[pos]
        pos += 1
        if b == _MARKER:
            if pos == end:
                raise CoAPError("payload marker with an empty payload")
            return opts, data[pos:]
        delta, pos = _get_ext(b >> 4, data, pos, end)
        length, pos = _get_ext(b & 15, data, pos, end)
        number += delta
        if pos + length > end:
            raise CoAPError("option value runs past the end")
        opts.append((number, data[pos : pos + length]))
        pos += length
    return opts, b""


def check_options(opts):
    """Apply RFC 7252 §5.4.1-5 to decoded options: raise BadOption for an unrecognised or
    malformed critical option, drop a malformed elective one, keep unknown elective ones
    (the application ignores what it does not know). Returns the options to keep."""
    kept = opts  # copied only if something must be dropped: the usual case allocates nothing
    prev = -1
    for i in range(len(opts)):
        number, value = opts[i]
        first = number != prev
        prev = number
        if number not in options.REGISTRY:
            if options.is_critical(number):
                raise BadOption(f"unrecognised critical option {number}")
        elif not options.is_valid(number, value, first):
            if options.is_critical(number):
                raise BadOption("malformed critical option " + options.name(number))
            if kept is opts:
                kept = opts[:i]  # drop this one, keep what came before
            continue
        if kept is not opts:
            kept.append(opts[i])
    return kept


def decode(data):
    """Parse one datagram into a Message; raises CoAPError (BadOption for a critical
    option we must not ignore)."""
    if not isinstance(data, bytes):
        data = bytes(data)
    n = len(data)
    if n < 4:
        raise CoAPError("shorter than the CoAP header")
    b0 = data[0]
    if b0 >> 6 != 1:
        raise CoAPError("unknown CoAP version")
    tkl = b0 & 15
    if tkl > _MAX_TOKEN:
        raise CoAPError("reserved token length")
    code = data[1]
    if (code >> 5) in (1, 6, 7):
        raise CoAPError("reserved code class")
    pos = 4 + tkl
    if pos > n:
        raise CoAPError("truncated token")
    if code == codes.EMPTY and n > 4:
        raise CoAPError("an Empty message carries no token, options or payload")
    opts, payload = decode_options(data, pos)
    return Message(
        (b0 >> 4) & 3, code, data[2] << 8 | data[3], data[4:pos], check_options(opts), payload
    )


def error_reply(data, err):
    """What a server sends back for a datagram that failed to decode with `err`
    (RFC 7252 §4.2-4.3, §5.4.1): a piggy-backed 4.00/4.02 for a Confirmable request whose
    token could be read, a Reset for any other CON or NON with a readable header, and
    nothing (None) for ACK/RST, another version or fewer than 4 bytes."""
    if len(data) < 4 or data[0] >> 6 != 1:
        return None
    mtype = (data[0] >> 4) & 3
    if mtype in (ACK, RST):
        return None
    mid = data[2] << 8 | data[3]
    tkl = data[0] & 15
    if mtype == CON and codes.is_request(data[1]) and tkl <= _MAX_TOKEN and len(data) >= 4 + tkl:
        code = getattr(err, "code", codes.BAD_REQUEST)
        return Message(ACK, code, mid, bytes(data[4 : 4 + tkl]), payload=str(err).encode()).encode()
    return Message(RST, codes.EMPTY, mid).encode()


def response_to(request, code, payload=b"", mid=0):
    """A response to `request`: piggy-backed in the ACK for a CON, else a NON that needs
    its own message ID `mid`."""
    if request.mtype == CON:
        return Message(ACK, code, request.mid, request.token, payload=payload)
    return Message(NON, code, mid, request.token, payload=payload)
