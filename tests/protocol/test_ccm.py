"""AES-CCM: RFC 3610 packet vectors, byte-for-byte agreement with `cryptography`'s
AESCCM for every nonce and tag length, tag rejection, and the same code on MicroPython."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import ccm
from protocol.ccm import CCM
from protocol.errors import ProtocolError
from tests.mp import oscore_primitives_vectors as vectors
from tests.mpy import run_micropython

MP_DIR = Path(__file__).resolve().parents[1] / "mp"


@pytest.mark.parametrize("check", vectors.CHECKS, ids=lambda c: c.__name__)
def test_published_vectors(check):
    check()


def test_published_vectors_and_bthome_parameters_on_micropython():
    res = run_micropython(path=MP_DIR / "oscore_primitives.py", heapsize="100K", paths=[MP_DIR])
    assert res.status == 0 and res.output.strip().endswith("OK"), res.output


@settings(max_examples=300, deadline=None)
@given(
    key=st.binary(min_size=16, max_size=16),
    nonce_len=st.integers(7, 13),
    tag_len=st.sampled_from([4, 6, 8, 10, 12, 14, 16]),
    data=st.data(),
)
def test_matches_cryptography_aesccm(key, nonce_len, tag_len, data):
    nonce = data.draw(st.binary(min_size=nonce_len, max_size=nonce_len))
    plaintext = data.draw(st.binary(max_size=100))
    aad = data.draw(st.binary(max_size=70))
    out = ccm.encrypt(key, nonce, plaintext, aad, tag_len)
    assert out == AESCCM(key, tag_len).encrypt(nonce, plaintext, aad)
    assert ccm.decrypt(key, nonce, out, aad, tag_len) == plaintext


def test_long_associated_data_uses_the_six_byte_length_prefix():
    # 0xFF00 bytes and more of AAD switch the length encoding (RFC 3610 §2.2).
    key, nonce = bytes(16), bytes(13)
    for n in (0xFEFF, 0xFF00, 0x10010):
        aad = bytes(i & 0xFF for i in range(n))
        assert ccm.encrypt(key, nonce, b"hi", aad) == AESCCM(key, 8).encrypt(nonce, b"hi", aad)


@settings(max_examples=100, deadline=None)
@given(plaintext=st.binary(max_size=40), aad=st.binary(max_size=20), data=st.data())
def test_any_flipped_bit_fails_verification(plaintext, aad, data):
    c = CCM(b"k" * 16, 13, 8)
    nonce = b"n" * 13
    out = bytearray(c.encrypt(nonce, plaintext, aad))
    i = data.draw(st.integers(0, len(out) - 1))
    out[i] ^= 1 << data.draw(st.integers(0, 7))
    assert c.decrypt(nonce, bytes(out), aad) is None
    assert c.decrypt(nonce, c.encrypt(nonce, plaintext, aad), aad + b"x") is None
    assert c.decrypt(nonce[:-1] + b"m", c.encrypt(nonce, plaintext, aad), aad) is None


def test_data_shorter_than_the_tag_does_not_verify():
    assert ccm.decrypt(bytes(16), bytes(13), b"\x00" * 7, b"") is None


@pytest.mark.parametrize(("nonce_len", "tag_len"), [(6, 8), (14, 8), (13, 3), (13, 5), (13, 18)])
def test_parameters_outside_ccm_are_refused(nonce_len, tag_len):
    with pytest.raises(ProtocolError):
        CCM(bytes(16), nonce_len, tag_len)


def test_nonce_of_the_wrong_length_is_refused():
    with pytest.raises(ProtocolError):
        CCM(bytes(16), 13, 8).encrypt(bytes(12), b"x")


def test_message_too_long_for_a_13_byte_nonce_is_refused():
    # A 13-byte nonce leaves a 2-byte length field: at most 65535 bytes.
    with pytest.raises(ProtocolError):
        CCM(bytes(16), 13, 8).encrypt(bytes(13), bytes(65536))


def test_key_of_the_wrong_length_is_refused():
    with pytest.raises(ProtocolError):
        CCM(bytes(15))
