# Ed25519 signature verification (RFC 8032 §5.1.7). The hub only checks OTA manifests
# signed by an offline release key, so there is no signing here, and nothing needs to be
# constant-time: every input is public.
#
# Field elements are plain ints reduced with `%`, which is one C call on MicroPython's
# big ints and faster there than any hand-written reduction. Points are tuples in
# extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z (Hisil et al. 2008,
# a = -1). [S]B - [k]A is computed in one pass of shared doublings over width-5 signed
# sliding windows of both scalars; B's odd multiples are built once and kept. About 5.5 ms
# on the MicroPython unix port, 1.4 ms on CPython (tests/bench/bench_ed25519.py).

from protocol.sha512 import SHA512

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


_W = const(5)  # window width: 8 odd multiples per point, about 253/6 additions per scalar
_TOP = const(256)  # recoded digits: scalars are < 2**253, plus room for a final carry

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493  # order of B
_D = -121665 * pow(121666, _P - 2, _P) % _P
_D2 = 2 * _D % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_Y_MASK = (1 << 255) - 1
_B = b"\x58" + b"\x66" * 31  # the base point B, encoded (y = 4/5, x even)

_b_table = None  # odd multiples of B, built on first use


def _decode(s):
    # §5.1.3: the point (x, y) encoded by 32 bytes, or None when the encoding is not
    # canonical (y >= p, or x = 0 with the sign bit set) or names no point on the curve.
    p = _P
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= _Y_MASK
    if y >= p:
        return None
    yy = y * y % p
    u = (yy - 1) % p
    v = (_D * yy + 1) % p
    v3 = v * v * v % p
    x = u * v3 * pow(u * v3 * v3 * v % p, (p - 5) // 8, p) % p
    vxx = v * x * x % p
    if vxx != u:
        if (vxx + u) % p:
            return None  # u/v has no square root: not a point
        x = x * _SQRT_M1 % p
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = p - x
    return x, y


def _encode(pt):
    # §5.1.2: y with the low bit of x in the top bit; always canonical.
    p = _P
    zi = pow(pt[2], p - 2, p)
    x = pt[0] * zi % p
    y = pt[1] * zi % p
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _double(pt):
    # dbl-2008-hwcd: 4 squarings, 4 multiplications.
    p = _P
    x, y, z = pt[0], pt[1], pt[2]
    a = x * x % p
    b = y * y % p
    h = a + b
    e = h - (x + y) * (x + y) % p
    g = a - b
    f = 2 * z * z + g
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _add(pt, c):
    # add-2008-hwcd-3 with the second point cached as (Y+X, Y-X, 2dT, 2Z): 8 multiplications.
    p = _P
    x, y = pt[0], pt[1]
    a = (y - x) * c[1] % p
    b = (y + x) * c[0] % p
    cc = pt[3] * c[2] % p
    d = pt[2] * c[3] % p
    e = b - a
    f = d - cc
    g = d + cc
    h = b + a
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _cached(pt):
    p = _P
    x, y = pt[0], pt[1]
    return ((y + x) % p, (y - x) % p, pt[3] * _D2 % p, 2 * pt[2] % p)


def _odd_multiples(pt):
    # pt, 3pt, 5pt, ..., 15pt in cached form: the digits a width-5 window can ask for.
    two = _cached(_double(pt))
    table = [_cached(pt)]
    for _ in range(1, 1 << (_W - 2)):
        pt = _add(pt, two)
        table.append(_cached(pt))
    return table


def _recode(scalar):
    # Width-5 signed sliding window (wNAF): digits odd in -15..15, each followed by at
    # least four zeros, so that sum(digit[i] << i) == scalar. Works on the scalar's bytes
    # with small ints only, which saves MicroPython a big-int allocation per bit. Digits
    # are kept as bytes, two's complement, so the whole recoding takes 256 bytes of heap.
    b = scalar.to_bytes(34, "little")  # two spare zero bytes for the 16-bit reads
    digits = bytearray(_TOP)
    full = 1 << _W
    mask = full - 1
    i = 0
    carry = 0
    while i < _TOP - 1:
        j = i >> 3
        bits = (b[j] | b[j + 1] << 8) >> (i & 7)
        if not (bits + carry) & 1:
            carry = ((bits & 1) + carry) >> 1
            i += 1
            continue
        val = (bits & mask) + carry
        if val >= full >> 1:
            digits[i] = val - full + 256
            carry = 1
        else:
            digits[i] = val
            carry = 0
        i += _W
    return digits


def _neg(c):
    # -P in cached form: swap Y+X with Y-X and negate 2dT.
    return (c[1], c[0], _P - c[2], c[3])


def _lookup(table, digit):
    # digit is a recoded byte: 1..15 positive, 241..255 negative.
    if digit < 128:
        return table[digit >> 1]
    return _neg(table[(256 - digit) >> 1])


def _base_table():
    global _b_table
    if _b_table is None:
        pt = _decode(_B)
        assert pt is not None  # B is on the curve; this tells the type checker so
        x, y = pt
        _b_table = _odd_multiples((x, y, 1, x * y % _P))
    return _b_table


def verify(public_key, message, signature):
    """True when `signature` (64 bytes) is a valid Ed25519 signature of `message` by
    `public_key` (32 bytes), as RFC 8032 §5.1.7 defines it; False for anything else,
    including malformed keys and signatures. Public keys of small order are refused:
    anyone could forge signatures that such a key would accept."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    public_key = bytes(public_key)
    r = bytes(signature[:32])
    s = int.from_bytes(bytes(signature[32:]), "little")
    if s >= _L:
        return False  # §5.1.7 step 1: S must be canonical, which also stops malleability
    a = _decode(public_key)
    if a is None:
        return False
    p = _P
    pt_a = (p - a[0], a[1], 1, (p - a[0]) * a[1] % p)  # -A: the loop computes [S]B + [k](-A)
    if _double(_double(_double(pt_a)))[0] % p == 0:
        return False  # [8]A is the identity
    h = SHA512(r)
    h.update(public_key)
    h.update(message)
    k = int.from_bytes(h.digest(), "little") % _L
    # §5.1.7 step 3, without the cofactor: [S]B == R + [k]A, compared as encodings, so
    # an R that is not the canonical encoding of a point never matches.
    return _encode(_double_mul(s, _base_table(), k, _odd_multiples(pt_a))) == r


def _double_mul(s, s_table, k, k_table):
    # [s]P + [k]Q from odd-multiple tables of P and Q, sharing the doublings. The point
    # operations of _double and _add are written out here, on plain locals, because this
    # loop is nearly all of a verification: no tuple per step, and T is only computed
    # when an addition follows that needs it.
    p = _P
    ds = _recode(s)
    dk = _recode(k)
    i = _TOP - 1
    while i >= 0 and not ds[i] and not dk[i]:
        i -= 1
    x, y, z, t = 0, 1, 1, 0
    while i >= 0:
        d1 = ds[i]
        d2 = dk[i]
        a = x * x % p
        b = y * y % p
        h = a + b
        e = h - (x + y) * (x + y) % p
        g = a - b
        f = 2 * z * z + g
        x = e * f % p
        y = g * h % p
        z = f * g % p
        if d1:
            t = e * h % p
            c = _lookup(s_table, d1)
            a = (y - x) * c[1] % p
            b = (y + x) * c[0] % p
            e = b - a
            h = b + a
            b = t * c[2] % p
            a = z * c[3] % p
            f = a - b
            g = a + b
            x = e * f % p
            y = g * h % p
            z = f * g % p
        if d2:
            t = e * h % p
            c = _lookup(k_table, d2)
            a = (y - x) * c[1] % p
            b = (y + x) * c[0] % p
            e = b - a
            h = b + a
            b = t * c[2] % p
            a = z * c[3] % p
            f = a - b
            g = a + b
            x = e * f % p
            y = g * h % p
            z = f * g % p
        i -= 1
    return x, y, z
