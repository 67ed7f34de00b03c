# SHA-512 (FIPS 180-4 §6.4), which Ed25519 needs and MicroPython's hashlib lacks.
# Words are Python ints masked to 64 bits after every operation that can overflow, so the
# same code runs on CPython and on MicroPython's arbitrary-precision ints. One object
# keeps its state, a 128-byte block buffer and the 80-word schedule, so hashing a long
# message allocates no lists.

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


_M = const(0xFFFFFFFFFFFFFFFF)
_BLOCK = const(128)

# FIPS 180-4 §4.2.3: the first 64 bits of the fractional parts of the cube roots of the
# first 80 primes.
_K = (
    0x428A2F98D728AE22, 0x7137449123EF65CD, 0xB5C0FBCFEC4D3B2F, 0xE9B5DBA58189DBBC,
    0x3956C25BF348B538, 0x59F111F1B605D019, 0x923F82A4AF194F9B, 0xAB1C5ED5DA6D8118,
    0xD807AA98A3030242, 0x12835B0145706FBE, 0x243185BE4EE4B28C, 0x550C7DC3D5FFB4E2,
    0x72BE5D74F27B896F, 0x80DEB1FE3B1696B1, 0x9BDC06A725C71235, 0xC19BF174CF692694,
    0xE49B69C19EF14AD2, 0xEFBE4786384F25E3, 0x0FC19DC68B8CD5B5, 0x240CA1CC77AC9C65,
    0x2DE92C6F592B0275, 0x4A7484AA6EA6E483, 0x5CB0A9DCBD41FBD4, 0x76F988DA831153B5,
    0x983E5152EE66DFAB, 0xA831C66D2DB43210, 0xB00327C898FB213F, 0xBF597FC7BEEF0EE4,
    0xC6E00BF33DA88FC2, 0xD5A79147930AA725, 0x06CA6351E003826F, 0x142929670A0E6E70,
    0x27B70A8546D22FFC, 0x2E1B21385C26C926, 0x4D2C6DFC5AC42AED, 0x53380D139D95B3DF,
    0x650A73548BAF63DE, 0x766A0ABB3C77B2A8, 0x81C2C92E47EDAEE6, 0x92722C851482353B,
    0xA2BFE8A14CF10364, 0xA81A664BBC423001, 0xC24B8B70D0F89791, 0xC76C51A30654BE30,
    0xD192E819D6EF5218, 0xD69906245565A910, 0xF40E35855771202A, 0x106AA07032BBD1B8,
    0x19A4C116B8D2D0C8, 0x1E376C085141AB53, 0x2748774CDF8EEB99, 0x34B0BCB5E19B48A8,
    0x391C0CB3C5C95A63, 0x4ED8AA4AE3418ACB, 0x5B9CCA4F7763E373, 0x682E6FF3D6B2B8A3,
    0x748F82EE5DEFB2FC, 0x78A5636F43172F60, 0x84C87814A1F0AB72, 0x8CC702081A6439EC,
    0x90BEFFFA23631E28, 0xA4506CEBDE82BDE9, 0xBEF9A3F7B2C67915, 0xC67178F2E372532B,
    0xCA273ECEEA26619C, 0xD186B8C721C0C207, 0xEADA7DD6CDE0EB1E, 0xF57D4F7FEE6ED178,
    0x06F067AA72176FBA, 0x0A637DC5A2C898A6, 0x113F9804BEF90DAE, 0x1B710B35131C471B,
    0x28DB77F523047D84, 0x32CAAB7B40C72493, 0x3C9EBE0A15C9BEBC, 0x431D67C49C100D4C,
    0x4CC5D4BECB3E42B6, 0x597F299CFC657E2A, 0x5FCB6FAB3AD6FAEC, 0x6C44198C4A475817,
)  # fmt: skip

# FIPS 180-4 §5.3.5: the initial hash value.
_H0 = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip


class SHA512:
    """Incremental SHA-512, shaped like hashlib's: update(data), digest()."""

    def __init__(self, data=None):
        self._h = [0] * 8
        self._h[:] = _H0
        self._buf = bytearray(_BLOCK)
        self._n = 0  # bytes waiting in _buf
        self._total = 0  # message length in bytes
        self._w = [0] * 80
        if data is not None:
            self.update(data)

    def update(self, data):
        mv = memoryview(data)
        n = len(mv)
        self._total += n
        pos = 0
        buf = self._buf
        if self._n:
            take = min(_BLOCK - self._n, n)
            buf[self._n : self._n + take] = mv[:take]
            self._n += take
            pos = take
            if self._n < _BLOCK:
                return
            self._compress(buf)
            self._n = 0
        while n - pos >= _BLOCK:
            self._compress(mv[pos : pos + _BLOCK])
            pos += _BLOCK
        rest = n - pos
        if rest:
            buf[:rest] = mv[pos:]
            self._n = rest

    def digest(self):
        """The 64-byte hash of everything given so far; the object stays usable."""
        h = self._h[:]
        buf = bytearray(self._buf)
        n = self._n
        # §5.1.2: a 1 bit, zeros, then the length in bits as a 128-bit big-endian number.
        buf[n] = 0x80
        for i in range(n + 1, _BLOCK):
            buf[i] = 0
        if n >= _BLOCK - 16:
            self._compress(buf)
            for i in range(_BLOCK):
                buf[i] = 0
        buf[_BLOCK - 16 :] = (self._total * 8).to_bytes(16, "big")
        self._compress(buf)
        out = b"".join(x.to_bytes(8, "big") for x in self._h)
        self._h = h
        return out

    def _compress(self, block):
        # §6.4.2, one 1024-bit block into the running state.
        w = self._w
        for t in range(16):
            w[t] = int.from_bytes(block[8 * t : 8 * t + 8], "big")
        for t in range(16, 80):
            x = w[t - 15]
            s0 = ((x >> 1) | (x << 63)) ^ ((x >> 8) | (x << 56)) ^ (x >> 7)
            x = w[t - 2]
            s1 = ((x >> 19) | (x << 45)) ^ ((x >> 61) | (x << 3)) ^ (x >> 6)
            w[t] = (w[t - 16] + (s0 & _M) + w[t - 7] + (s1 & _M)) & _M
        st = self._h
        a, b, c, d, e, f, g, h = st
        k = _K
        for t in range(80):
            s1 = ((e >> 14) | (e << 50)) ^ ((e >> 18) | (e << 46)) ^ ((e >> 41) | (e << 23))
            t1 = h + (s1 & _M) + ((e & f) ^ ((e ^ _M) & g)) + k[t] + w[t]
            s0 = ((a >> 28) | (a << 36)) ^ ((a >> 34) | (a << 30)) ^ ((a >> 39) | (a << 25))
            t2 = (s0 & _M) + ((a & b) ^ (a & c) ^ (b & c))
            h = g
            g = f
            f = e
            e = (d + t1) & _M
            d = c
            c = b
            b = a
            a = (t1 + t2) & _M
        st[0] = (st[0] + a) & _M
        st[1] = (st[1] + b) & _M
        st[2] = (st[2] + c) & _M
        st[3] = (st[3] + d) & _M
        st[4] = (st[4] + e) & _M
        st[5] = (st[5] + f) & _M
        st[6] = (st[6] + g) & _M
        st[7] = (st[7] + h) & _M


def sha512(data):
    """The SHA-512 digest (64 bytes) of data."""
    return SHA512(data).digest()
