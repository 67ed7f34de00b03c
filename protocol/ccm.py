# AES-CCM (RFC 3610) over single-block AES, generic in nonce and tag length:
# OSCORE uses a 13-byte nonce and 8-byte tag (AES-CCM-16-64-128), BTHome v2 13 and 4.
# A CCM object keeps its key schedule and working blocks, so protecting a message
# allocates only the output.

from protocol.aes import AES
from protocol.errors import ProtocolError


class CCM:
    """AES-CCM with one key and fixed nonce and tag lengths."""

    def __init__(self, key, nonce_len=13, tag_len=8):
        if not 7 <= nonce_len <= 13:
            raise ProtocolError("CCM nonce must be 7 to 13 bytes")
        if tag_len & 1 or not 4 <= tag_len <= 16:
            raise ProtocolError("CCM tag must be 4, 6, ..., 16 bytes")
        self._aes = AES(key)
        self.nonce_len = nonce_len
        self.tag_len = tag_len
        self._q = 15 - nonce_len  # bytes of the length field and of the counter
        self._x = bytearray(16)  # CBC-MAC state
        self._a = bytearray(16)  # counter block
        self._s = bytearray(16)  # key stream block

    def _start(self, nonce, n, aad):
        # B0 and the associated data go through CBC-MAC; the counter block gets the nonce.
        if len(nonce) != self.nonce_len:
            raise ProtocolError("CCM nonce has the wrong length")
        q = self._q
        if q < 4 and n >> (8 * q):
            raise ProtocolError("CCM message too long for this nonce length")
        x = self._x
        a = self._a
        enc = self._aes.encrypt_into
        la = len(aad)
        x[0] = (0x40 if la else 0) | ((self.tag_len - 2) << 2) | (q - 1)
        a[0] = q - 1
        for i in range(self.nonce_len):
            x[1 + i] = a[1 + i] = nonce[i]
        for i in range(15, 15 - q, -1):
            x[i] = n & 0xFF
            n >>= 8
        enc(x, x)
        if not la:
            return
        # The associated data is prefixed by its length: 2 bytes below 0xFF00, else 6.
        if la < 0xFF00:
            x[0] ^= la >> 8
            x[1] ^= la & 0xFF
            h = 2
        else:
            x[0] ^= 0xFF
            x[1] ^= 0xFE
            for i in range(4):
                x[2 + i] ^= (la >> (24 - 8 * i)) & 0xFF
            h = 6
        pos = 0
        while True:
            k = min(16 - h, la - pos)
            for i in range(k):
                x[h + i] ^= aad[pos + i]
            enc(x, x)
            pos += k
            if pos >= la:
                return
            h = 0

    def _crypt(self, src, dst, n, decrypting):
        # One pass: CTR from counter 1 and CBC-MAC over the plaintext, block by block.
        x = self._x
        a = self._a
        s = self._s
        enc = self._aes.encrypt_into
        ctr = 1
        pos = 0
        while pos < n:
            c = ctr
            for i in range(15, 15 - self._q, -1):
                a[i] = c & 0xFF
                c >>= 8
            enc(a, s)
            k = min(16, n - pos)
            if decrypting:
                for i in range(k):
                    p = src[pos + i] ^ s[i]
                    dst[pos + i] = p
                    x[i] ^= p
            else:
                for i in range(k):
                    p = src[pos + i]
                    dst[pos + i] = p ^ s[i]
                    x[i] ^= p
            enc(x, x)
            pos += k
            ctr += 1
        # Counter 0 encrypts the tag.
        for i in range(15, 15 - self._q, -1):
            a[i] = 0
        enc(a, s)

    def encrypt(self, nonce, plaintext, aad=b""):
        """Return ciphertext || tag."""
        n = len(plaintext)
        self._start(nonce, n, aad)
        out = bytearray(n + self.tag_len)
        self._crypt(plaintext, out, n, False)
        x = self._x
        s = self._s
        for i in range(self.tag_len):
            out[n + i] = x[i] ^ s[i]
        return bytes(out)

    def decrypt(self, nonce, data, aad=b""):
        """Return the plaintext, or None when the tag does not verify."""
        n = len(data) - self.tag_len
        if n < 0:
            return None
        self._start(nonce, n, aad)
        out = bytearray(n)
        self._crypt(data, out, n, True)
        x = self._x
        s = self._s
        diff = 0  # compare every byte, so timing does not tell how much of a tag was right
        for i in range(self.tag_len):
            diff |= data[n + i] ^ x[i] ^ s[i]
        if diff:
            return None
        return bytes(out)


def encrypt(key, nonce, plaintext, aad=b"", tag_len=8):
    """AES-CCM encrypt with a one-off key: ciphertext || tag."""
    return CCM(key, len(nonce), tag_len).encrypt(nonce, plaintext, aad)


def decrypt(key, nonce, data, aad=b"", tag_len=8):
    """AES-CCM decrypt with a one-off key: plaintext, or None if the tag does not verify."""
    return CCM(key, len(nonce), tag_len).decrypt(nonce, data, aad)
