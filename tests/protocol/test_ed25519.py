"""protocol.ed25519: RFC 8032 vectors, every rejection §5.1.7 asks for, small-order keys,
and agreement with `cryptography`, on CPython and on MicroPython."""

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import ed25519
from protocol.ed25519 import verify
from tests.mp.ed25519_vectors import RFC8032_7_1
from tests.mpy import run_micropython

h = bytes.fromhex
MP_DIR = Path(__file__).resolve().parents[1] / "mp"
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493

# The eight points of order dividing 8, canonically encoded: identity, order 2, two of
# order 4 (x = ±sqrt(-1), y = 0) and four of order 8.
SMALL_ORDER = [
    h("0100000000000000000000000000000000000000000000000000000000000000"),
    h("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    h("0000000000000000000000000000000000000000000000000000000000000000"),
    h("0000000000000000000000000000000000000000000000000000000000000080"),
    h("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    h("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    h("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    h("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
]


def raw_public(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed(message=b"release 1.2.3", seed=b"\x07" * 32):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return raw_public(key), message, key.sign(message)


@pytest.mark.parametrize("vector", RFC8032_7_1, ids=[v[0] for v in RFC8032_7_1])
def test_rfc8032_7_1(vector):
    _, secret, public, message, signature = vector
    # The vector is what `cryptography` computes too, so the bytes here are not mistyped.
    assert raw_public(Ed25519PrivateKey.from_private_bytes(h(secret))) == h(public)
    assert verify(h(public), h(message), h(signature))


@pytest.mark.parametrize("vector", RFC8032_7_1, ids=[v[0] for v in RFC8032_7_1])
def test_rfc8032_7_1_any_changed_bit_is_rejected(vector):
    _, _, public, message, signature = vector
    public, message, signature = h(public), h(message), h(signature)
    for i in (0, 17, 31, 32, 45, 63):
        for bit in (0x01, 0x80):
            bad = bytearray(signature)
            bad[i] ^= bit
            assert not verify(public, message, bytes(bad)), (i, bit)
    bad_key = bytearray(public)
    bad_key[3] ^= 0x10
    assert not verify(bytes(bad_key), message, signature)
    assert not verify(public, message + b"\x00", signature)
    if message:
        flipped = bytearray(message)
        flipped[-1] ^= 0x01
        assert not verify(public, bytes(flipped), signature)


def test_wrong_key_is_rejected():
    public, message, signature = signed()
    other = raw_public(Ed25519PrivateKey.from_private_bytes(b"\x08" * 32))
    assert verify(public, message, signature)
    assert not verify(other, message, signature)


def test_5_1_7_non_canonical_s_is_rejected():
    # S + L satisfies the group equation just as S does; §5.1.7 refuses it (malleability).
    public, message, signature = signed()
    s = int.from_bytes(signature[32:], "little")
    assert s + L < 2**256
    assert not verify(public, message, signature[:32] + (s + L).to_bytes(32, "little"))
    assert not verify(public, message, signature[:32] + L.to_bytes(32, "little"))
    assert not verify(public, message, signature[:32] + b"\xff" * 32)


def test_wrong_lengths_and_buffer_types():
    public, message, signature = signed()
    assert verify(bytearray(public), memoryview(message), bytearray(signature))
    assert not verify(public[:31], message, signature)
    assert not verify(public + b"\x00", message, signature)
    assert not verify(public, message, signature[:63])
    assert not verify(public, message, signature + b"\x00")
    assert not verify(b"", message, b"")


def test_5_1_3_decoding_rejects_non_canonical_y():
    # y >= p: the small y that are on the curve, encoded a second time as y + p.
    found = 0
    for y in range(19):
        point = ed25519._decode(y.to_bytes(32, "little"))
        if point is None:
            continue
        found += 1
        for sign in (0, 1 << 255):
            assert ed25519._decode((y + P | sign).to_bytes(32, "little")) is None
    assert found >= 2  # y = 0 and y = 1 at least
    assert ed25519._decode(b"\xff" * 31 + b"\x7f") is None


def test_5_1_3_decoding_rejects_x_zero_with_sign_bit():
    # y = 1 and y = -1 have x = 0; the sign bit would name a second encoding of them.
    assert ed25519._decode(SMALL_ORDER[0]) == (0, 1)
    assert ed25519._decode(SMALL_ORDER[0][:31] + b"\x80") is None
    assert ed25519._decode(SMALL_ORDER[1][:31] + b"\xff") is None


def test_decoding_rejects_y_with_no_point():
    # About half of all y have no x on the curve; such keys and R values fail.
    misses = [y for y in range(2, 40) if ed25519._decode(y.to_bytes(32, "little")) is None]
    assert misses
    public, message, signature = signed()
    bad = misses[0].to_bytes(32, "little")
    assert not verify(bad, message, signature)
    assert not verify(public, message, bad + signature[32:])


def test_small_order_points_are_the_eight():
    for enc in SMALL_ORDER:
        pt = ed25519._decode(enc)
        assert pt is not None
        x, y = pt
        q = (x, y, 1, x * y % P)
        for _ in range(3):
            q = ed25519._double(q)
        assert q[0] % P == 0 and (q[1] - q[2]) % P == 0, enc.hex()


def test_small_order_public_keys_are_refused():
    # With A of small order, [k]A vanishes whenever 8 divides k, and then R = [a]B,
    # S = a (for any a) satisfies the cofactorless equation [S]B = R + [k]A: a forgery
    # anyone can make. Find such a message, show the equation holds, and see it refused.
    seed = b"\x2a" * 32
    a = int.from_bytes(hashlib.sha512(seed).digest()[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)  # RFC 8032 §5.1.5 clamping
    r = raw_public(Ed25519PrivateKey.from_private_bytes(seed))  # encodes [a]B
    signature = r + (a % L).to_bytes(32, "little")
    base = ed25519._base_table()
    for public in SMALL_ORDER:
        for n in range(200):
            message = b"forged %d" % n
            k = int.from_bytes(hashlib.sha512(r + public + message).digest(), "little") % L
            if k % 8 == 0:
                break
        else:
            raise AssertionError("no message with 8 | k")
        x, y = ed25519._decode(public)
        minus_a = (-x % P, y, 1, -x * y % P)
        table = ed25519._odd_multiples(minus_a)
        assert ed25519._encode(ed25519._double_mul(a % L, base, k, table)) == r
        assert not verify(public, message, signature), public.hex()


@pytest.mark.parametrize("scalar", [0, 1, 15, 16, 17, 31, 32, 2**252, L - 1, 2**253 - 1])
def test_recoding_is_exact(scalar):
    digits = ed25519._recode(scalar)
    total = sum((d - 256 if d > 127 else d) << i for i, d in enumerate(digits))
    assert total == scalar


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**253 - 1))
def test_recoding_is_exact_for_any_scalar(scalar):
    digits = ed25519._recode(scalar)
    total = sum((d - 256 if d > 127 else d) << i for i, d in enumerate(digits))
    assert total == scalar
    nonzero = [i for i, d in enumerate(digits) if d]
    assert all(b - a >= 5 for a, b in zip(nonzero, nonzero[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(max_size=300))
def test_agrees_with_cryptography(seed, message):
    public, message, signature = signed(message, seed)
    assert verify(public, message, signature)
    assert not verify(public, message + b"!", signature)


def test_rfc8032_7_1_on_micropython():
    res = run_micropython(path=MP_DIR / "ed25519_rfc8032.py", heapsize="64K")
    assert res.status == 0, res.output
    assert res.output.strip() == "OK"


def test_cryptography_signatures_on_micropython():
    # Fresh signatures from `cryptography`, checked by the hub's code on the hub's runtime.
    args = []
    for n in range(6):
        public, message, signature = signed(b"manifest %d " % n * n, bytes([n + 1]) * 32)
        args += [public.hex(), message.hex(), signature.hex()]
    res = run_micropython(path=MP_DIR / "ed25519_rfc8032.py", heapsize="64K", args=args)
    assert res.status == 0, res.output
    assert res.output.strip() == "OK 6"
