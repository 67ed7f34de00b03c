"""HMAC-SHA256 and HKDF-SHA256 written over hashlib.sha256 (MicroPython has no hmac):
published vectors (also run on MicroPython by test_ccm) and agreement with the stdlib."""

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ProtocolError
from protocol.hkdf import hkdf_sha256, hmac_sha256
from tests.mp import oscore_primitives_vectors as vectors


@pytest.mark.parametrize(
    "check",
    [
        vectors.rfc4231_test_case_2_hmac_sha256,
        vectors.rfc4231_test_case_6_key_longer_than_block,
        vectors.rfc5869_a1_test_case_1,
        vectors.rfc5869_a2_test_case_2,
        vectors.rfc5869_a3_test_case_3_empty_salt_and_info,
    ],
    ids=lambda c: c.__name__,
)
def test_published_vectors(check):
    check()


@settings(max_examples=200, deadline=None)
@given(key=st.binary(max_size=150), data=st.binary(max_size=200))
def test_hmac_matches_the_standard_library(key, data):
    assert hmac_sha256(key, data) == hmac.new(key, data, hashlib.sha256).digest()


@settings(max_examples=100, deadline=None)
@given(
    ikm=st.binary(max_size=64),
    salt=st.binary(max_size=64),
    info=st.binary(max_size=64),
    length=st.integers(1, 300),
)
def test_hkdf_matches_cryptography(ikm, salt, info, length):
    expected = HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)
    assert hkdf_sha256(ikm, salt, info, length) == expected


def test_output_longer_than_hkdf_allows_is_refused():
    with pytest.raises(ProtocolError):
        hkdf_sha256(b"k", b"", b"", 255 * 32 + 1)
