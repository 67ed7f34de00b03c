# HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869), by hand over hashlib.sha256:
# MicroPython has no hmac module. OSCORE derives its keys and Common IV with these.

import hashlib

from protocol.errors import ProtocolError

_BLOCK = 64  # SHA-256 input block size
_HASH_LEN = 32


def _xor_pad(key, pad):
    # The key, zero-filled to one block, XORed with the pad byte.
    out = bytearray(_BLOCK)
    for i in range(_BLOCK):
        out[i] = pad
    for i in range(len(key)):
        out[i] ^= key[i]
    return out


def hmac_sha256(key, data):
    """HMAC-SHA256 of data under key; returns 32 bytes."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    inner = hashlib.sha256(_xor_pad(key, 0x36))
    inner.update(data)
    outer = hashlib.sha256(_xor_pad(key, 0x5C))
    outer.update(inner.digest())
    return outer.digest()


def hkdf_sha256(ikm, salt, info, length):
    """HKDF extract-and-expand: `length` bytes of output keying material."""
    if length > 255 * _HASH_LEN:
        raise ProtocolError("HKDF-SHA256 output is limited to 8160 bytes")
    prk = hmac_sha256(salt if salt else bytes(_HASH_LEN), ikm)
    okm = b""
    t = b""
    i = 1
    while len(okm) < length:
        t = hmac_sha256(prk, t + info + bytes((i,)))
        okm += t
        i += 1
    return okm[:length]
