# OSCORE (RFC 8613) with AES-CCM-16-64-128 and HKDF-SHA256, the only suite we speak.
# Sans-IO: a Context protects and unprotects coap.Message objects; the caller owns
# sockets, picks message IDs and tokens, and persists sequence numbers through a hook.

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


from protocol import cbor, codes, options
from protocol.ccm import CCM
from protocol.coap import ACK, CON, NON, Message, check_options, decode_options, encode_options
from protocol.errors import CoAPError, OSCOREError, ProtocolError

_ALG = const(10)  # COSE AES-CCM-16-64-128: 16-byte key, 13-byte nonce, 8-byte tag
_KEY_LEN = const(16)
_NONCE_LEN = const(13)
_MAX_ID = const(7)  # nonce length - 6 (§3.3)
_MAX_SEQ = (1 << 40) - 1  # Partial IVs are at most 5 bytes (§7.2.1); not a small int
_WINDOW = const(32)  # replay window, in sequence numbers (§7.4)
_BAD_REQUEST = const(0x80)
_BAD_OPTION = const(0x82)
_OSCORE = const(9)

# Class U: outer only (§4.1.3). Observe is both inner and outer; Proxy-Uri would have
# to be split into its parts, which no Portineria peer needs, so it is refused.
_OUTER = (options.URI_HOST, options.URI_PORT, options.PROXY_SCHEME, options.HOP_LIMIT)

# How many sequence numbers go by between two writes to the storage hook (B.1.1).
DEFAULT_K = const(64)


class EchoRequired(OSCOREError):
    """A verified request that a server without its replay window cannot yet trust;
    `response` is the protected 4.01 with Echo to send back (B.1.2)."""

    def __init__(self, msg, response):
        super().__init__(msg)
        self.response = response


def _fail(msg, code=None):
    e = OSCOREError(msg)
    if code is not None:
        e.code = code
    return e


def _derive(secret, salt, ident, id_context, kind, length):
    # Imported here: only a new context needs HKDF, so a hub can let the module go after
    # boot (hub.app).
    from protocol.hkdf import hkdf_sha256

    info = cbor.dumps([ident, id_context, _ALG, kind, length])
    return hkdf_sha256(secret, salt, info, length)


def _uint_bytes(n):
    # Partial IV: big-endian, leading zeros dropped, but never empty (§6.1).
    size = 1
    while n >> (8 * size):
        size += 1
    return n.to_bytes(size, "big")


def encode_option(piv=b"", kid=None, kid_context=None):
    """The OSCORE option value (§6.1): flags, Partial IV, kid context, kid."""
    flags = len(piv)
    out = bytearray(1)
    out += piv
    if kid_context is not None:
        flags |= 0x10
        out.append(len(kid_context))
        out += kid_context
    if kid is not None:
        flags |= 0x08
        out += kid
    if flags == 0:
        return b""  # all-zero flags and nothing else: the empty value (§2)
    out[0] = flags
    return bytes(out)


def decode_option(value):
    """Parse an OSCORE option value into (piv, kid, kid_context); piv is b"" and kid or
    kid_context None when absent. Raises OSCOREError with code 4.02 when malformed."""
    if not value:
        return b"", None, None
    flags = value[0]
    n = flags & 7
    if flags & 0xE0 or n > 5:
        raise _fail("OSCORE option uses reserved bits", _BAD_OPTION)
    pos = 1 + n
    if pos > len(value):
        raise _fail("OSCORE option: Partial IV truncated", _BAD_OPTION)
    piv = bytes(value[1:pos])
    kid_context = None
    if flags & 0x10:
        if pos >= len(value) or pos + 1 + value[pos] > len(value):
            raise _fail("OSCORE option: kid context truncated", _BAD_OPTION)
        s = value[pos]
        kid_context = bytes(value[pos + 1 : pos + 1 + s])
        pos += 1 + s
    kid = None
    if flags & 0x08:
        kid = bytes(value[pos:])
    elif pos != len(value):
        raise _fail("OSCORE option: trailing bytes", _BAD_OPTION)
    return piv, kid, kid_context


class ReplayWindow:
    """Sliding window of the last 32 sequence numbers accepted from a peer (§7.4)."""

    def __init__(self):
        self.top = -1  # highest sequence number accepted, -1 before the first
        self._seen = 0  # bit d set: top - d was accepted

    def check(self, seq):
        """True if `seq` may be accepted; call accept() only once it has verified."""
        if seq > self.top:
            return True
        d = self.top - seq
        return d < _WINDOW and not (self._seen >> d) & 1

    def accept(self, seq):
        if seq > self.top:
            shift = seq - self.top
            self._seen = ((self._seen << shift) | 1) & 0xFFFFFFFF if shift < _WINDOW else 1
            self.top = seq
        else:
            self._seen |= 1 << (self.top - seq)

    def restart_at(self, seq):
        """Accept nothing at or below `seq` (a fresh start after Echo, B.1.2)."""
        self.top = seq
        self._seen = 0xFFFFFFFF


class Context:
    """One OSCORE security context: our Sender Context and the peer's Recipient Context.

    `storage`, if given, persists the sender sequence number: an object with `load()`
    (the last saved number, or None) and `save(n)`. It is written before each number
    divisible by `k` is used, at most once every `k` messages, and a new context starts
    from the saved number + k, so no number is used twice across reboots (B.1.1).

    A server that restarts without its replay window passes window_known=False: then
    the first request that verifies is refused with EchoRequired (an OSCOREError)
    whose `response` is a protected 4.01 carrying a random Echo, to send back; the
    client's retry with that Echo proves freshness, and only higher sequence numbers
    are accepted from then on (B.1.2)."""

    def __init__(
        self,
        master_secret,
        sender_id,
        recipient_id,
        master_salt=b"",
        id_context=None,
        storage=None,
        k=DEFAULT_K,
        window_known=True,
    ):
        if len(sender_id) > _MAX_ID or len(recipient_id) > _MAX_ID:
            raise ProtocolError("OSCORE Sender and Recipient IDs are at most 7 bytes")
        if sender_id == recipient_id:
            raise ProtocolError("OSCORE Sender and Recipient IDs must differ")
        self.sender_id = bytes(sender_id)
        self.recipient_id = bytes(recipient_id)
        self.id_context = None if id_context is None else bytes(id_context)
        salt = bytes(master_salt)
        self.sender_key = _derive(master_secret, salt, self.sender_id, id_context, "Key", _KEY_LEN)
        self.recipient_key = _derive(
            master_secret, salt, self.recipient_id, id_context, "Key", _KEY_LEN
        )
        self.common_iv = _derive(master_secret, salt, b"", id_context, "IV", _NONCE_LEN)
        self._send = CCM(self.sender_key, _NONCE_LEN, 8)
        self._recv = CCM(self.recipient_key, _NONCE_LEN, 8)
        self._nonce_buf = bytearray(_NONCE_LEN)
        self._aad_templates = {}
        self.replay = ReplayWindow()
        self._echo = None
        if not window_known:
            import os

            self._echo = os.urandom(8)
        self._storage = storage
        self._k = k
        stored = storage.load() if storage is not None else None
        self.sender_seq = 0 if stored is None else stored + k  # next number to use

    def nonce(self, id_piv, piv):
        """AEAD nonce (§5.2): ID and Partial IV, left-padded, XORed with the Common IV."""
        n = self._nonce_buf
        iv = self.common_iv
        for i in range(_NONCE_LEN):
            n[i] = iv[i]
        n[0] ^= len(id_piv)
        base = 1 + _MAX_ID - len(id_piv)
        for i in range(len(id_piv)):
            n[base + i] ^= id_piv[i]
        base = _NONCE_LEN - len(piv)
        for i in range(len(piv)):
            n[base + i] ^= piv[i]
        return bytes(n)

    def aad(self, request):
        """The AEAD associated data binding a message to `request` (kid, Partial IV).

        Encoding it takes two CBOR calls, most of a protect's cost on the hub; only the
        Partial IV changes between messages, and it always sits just before the final
        empty byte string, so a template per (kid, Partial IV length) is patched."""
        kid, piv = request[0], request[1]
        key = (kid, len(piv))
        tpl = self._aad_templates.get(key)
        if tpl is None:
            tpl = self._aad_templates[key] = _aad_template(kid, len(piv))
        aad = bytearray(tpl)
        end = len(aad) - 1
        aad[end - len(piv) : end] = piv
        return aad

    def _next_piv(self):
        seq = self.sender_seq
        if seq > _MAX_SEQ:
            raise _fail("OSCORE sender sequence numbers exhausted; a new context is needed")
        if self._storage is not None and seq % self._k == 0:
            self._storage.save(seq)  # before the number is used, so a reboot skips past it
        self.sender_seq = seq + 1
        return _uint_bytes(seq)

    # ---- requests ------------------------------------------------------------------

    def protect_request(self, msg, send_kid_context=None):
        """Protect a request. Returns (outer message, request), where `request` binds
        the response to it: pass it to unprotect_response()."""
        piv = self._next_piv()
        nonce = self.nonce(self.sender_id, piv)
        if send_kid_context is None:
            send_kid_context = self.id_context is not None
        kid_context = self.id_context if send_kid_context else None
        value = encode_option(piv, self.sender_id, kid_context)
        request = (self.sender_id, piv, nonce)
        observe = msg.get(options.OBSERVE) is not None
        outer = _seal(
            self._send, msg, self.aad(request), nonce, value, codes.FETCH if observe else codes.POST
        )
        return outer, request

    def unprotect_request(self, msg):
        """Verify and decrypt a request. Returns (inner message, request) for
        protect_response(). Raises OSCOREError carrying the code to answer with."""
        value = msg.get(_OSCORE)
        if value is None:
            raise _fail("request is not OSCORE-protected")
        piv, kid, kid_context = decode_option(value)
        if kid is None or not piv:
            raise _fail("OSCORE request without kid or Partial IV", _BAD_OPTION)
        if kid != self.recipient_id or (kid_context is not None and kid_context != self.id_context):
            raise _fail("unknown OSCORE kid or kid context")
        seq = int.from_bytes(piv, "big")
        if not self.replay.check(seq):
            raise _fail("OSCORE replay detected")
        nonce = self.nonce(kid, piv)
        request = (kid, piv, nonce)
        inner = _open(self._recv, msg, self.aad(request), nonce, True)
        if self._echo is not None:
            if inner.get(options.ECHO) != self._echo:
                challenge = Message(
                    ACK if msg.mtype == CON else NON, codes.UNAUTHORIZED, msg.mid, msg.token
                )
                challenge.add(options.ECHO, self._echo)
                raise EchoRequired(
                    "OSCORE replay window unknown: Echo required",
                    self.protect_response(challenge, request),
                )
            self._echo = None
            self.replay.restart_at(seq)
        self.replay.accept(seq)
        return inner, request

    # ---- responses -----------------------------------------------------------------

    def protect_response(self, msg, request, new_piv=False):
        """Protect a response to `request`, reusing the request's nonce unless new_piv
        is set (needed when answering more than once, e.g. Observe)."""
        if new_piv:
            piv = self._next_piv()
            nonce = self.nonce(self.sender_id, piv)
            value = encode_option(piv)
        else:
            nonce = request[2]
            value = b""
        observe = msg.get(options.OBSERVE) is not None
        return _seal(
            self._send,
            msg,
            self.aad(request),
            nonce,
            value,
            codes.CONTENT if observe else codes.CHANGED,
        )

    def unprotect_response(self, msg, request):
        """Verify and decrypt the response to `request` (from protect_request)."""
        value = msg.get(_OSCORE)
        if value is None:
            # The server's OSCORE layer refused the request and could only answer in clear.
            text = bytes(msg.payload[:60])
            raise _fail(f"unprotected {codes.dotted(msg.code)} response: {text!r}")
        piv, kid, _ = decode_option(value)
        if kid is not None and kid != self.recipient_id:
            raise _fail("OSCORE response from an unknown kid")
        nonce = self.nonce(self.recipient_id, piv) if piv else request[2]
        return _open(self._recv, msg, self.aad(request), nonce, False)

    def echo_retry(self, request_msg, response):
        """Appendix B.1.2 on the client: if the unprotected `response` is 4.01 with an
        Echo option, return a copy of the unprotected `request_msg` carrying that Echo,
        to be protected and sent again (with a new message ID); else None."""
        echo = response.get(options.ECHO)
        if response.code != codes.UNAUTHORIZED or echo is None:
            return None
        retry = Message(
            request_msg.mtype,
            request_msg.code,
            request_msg.mid,
            request_msg.token,
            list(request_msg.options),
            request_msg.payload,
        )
        retry.set(options.ECHO, echo)
        return retry


def _aad_template(kid, piv_len):
    # Enc_structure (§5.4) over external_aad = [version, [alg], request kid, request
    # Partial IV, class I options (none)], with a zero Partial IV of the right length.
    ext = cbor.dumps([1, [_ALG], kid, bytes(piv_len), b""])
    return cbor.dumps(["Encrypt0", b"", ext])


def _seal(ccm, msg, aad, nonce, value, outer_code):
    inner = []
    outer = []
    for number, v in msg.options:
        if number in _OUTER:
            outer.append((number, v))
        elif number == options.OBSERVE:
            inner.append((number, v))
            outer.append((number, v))
        elif number == options.PROXY_URI:
            raise ProtocolError("OSCORE: send Proxy-Uri as Proxy-Scheme and Uri-* options")
        elif number != _OSCORE:
            inner.append((number, v))
    plain = bytearray((msg.code,))
    encode_options(inner, plain)
    if msg.payload:
        plain.append(0xFF)
        plain += msg.payload
    out = Message(msg.mtype, outer_code, msg.mid, msg.token, outer)
    out.add(_OSCORE, value)
    out.payload = ccm.encrypt(nonce, plain, aad)
    return out


def _open(ccm, msg, aad, nonce, is_request):
    plain = ccm.decrypt(nonce, msg.payload, aad)
    if plain is None:
        # RFC 8613 §8.2 step 6 (and §8.4): a request that fails to decrypt gets 4.00.
        raise _fail("OSCORE decryption failed", _BAD_REQUEST)
    if not plain:
        raise _fail("OSCORE plaintext is empty", _BAD_REQUEST)
    code = plain[0]
    if not ((0 < code < 0x20) if is_request else (code >> 5) in (2, 4, 5)):
        raise _fail("OSCORE inner code does not fit the message", _BAD_REQUEST)
    try:
        inner, payload = decode_options(plain, 1)
        inner = check_options(inner)
    except CoAPError as e:
        raise _fail("OSCORE inner options: " + str(e), e.code) from None
    # Outer class U options join the decrypted class E ones; anything else outside the
    # ciphertext is not authenticated and is dropped. Both lists are sorted: merge them
    # (list.sort is not stable on MicroPython, and repeated options keep their order).
    merged = []
    i = 0
    for number, v in msg.options:
        if number in _OUTER:
            while i < len(inner) and inner[i][0] <= number:
                merged.append(inner[i])
                i += 1
            merged.append((number, v))
    merged += inner[i:]
    return Message(msg.mtype, code, msg.mid, msg.token, merged, payload)
