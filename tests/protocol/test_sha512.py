"""protocol.sha512: FIPS 180-4 vectors and agreement with hashlib, on CPython and MicroPython."""

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.sha512 import SHA512, sha512
from tests.mp.ed25519_sha512 import NIST
from tests.mpy import run_micropython

h = bytes.fromhex
MP_DIR = Path(__file__).resolve().parents[1] / "mp"


@pytest.mark.parametrize("piece,times,digest", NIST, ids=["abc", "empty", "896-bit", "million-a"])
def test_fips_180_examples(piece, times, digest):
    assert sha512(piece * times) == h(digest)


# Lengths either side of the padding boundaries: 111 bytes leave room for the length
# field in the last block, 112 do not; 128 fill a block exactly.
@pytest.mark.parametrize("n", [1, 55, 63, 64, 111, 112, 113, 127, 128, 129, 239, 240, 256, 1000])
def test_padding_boundaries_match_hashlib(n):
    data = bytes(range(256)) * 4
    assert sha512(data[:n]) == hashlib.sha512(data[:n]).digest()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=700), st.lists(st.integers(0, 700), max_size=4))
def test_any_message_in_any_pieces_matches_hashlib(data, cuts):
    hasher = SHA512()
    start = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        hasher.update(data[start:cut])
        start = cut
    hasher.update(memoryview(data)[start:])
    assert hasher.digest() == hashlib.sha512(data).digest()


def test_digest_does_not_end_the_hash():
    hasher = SHA512(b"a" * 100)
    assert hasher.digest() == hashlib.sha512(b"a" * 100).digest()
    hasher.update(bytearray(b"b" * 200))
    assert hasher.digest() == hashlib.sha512(b"a" * 100 + b"b" * 200).digest()


def test_fips_180_examples_on_micropython():
    res = run_micropython(path=MP_DIR / "ed25519_sha512.py", heapsize="64K")
    assert res.status == 0, res.output
    assert res.output.strip() == "OK"
