"""fleet/secrets.py: sealed hub secrets open only with the right key, untouched."""

import pytest

from fleet.secrets import (
    SecretError,
    seal,
    seal_hub_secret,
    unseal,
    unseal_hub_secret,
)
from fleet.settings import Settings


@pytest.fixture
def settings():
    return Settings(secret_key="k" * 40)


def test_round_trip_and_fresh_nonce(settings):
    a, b = seal(settings, b"secret"), seal(settings, b"secret")
    assert unseal(settings, a) == unseal(settings, b) == b"secret"
    assert a != b  # a random nonce per seal: equal secrets do not look equal at rest
    assert b"secret" not in a


def test_hub_secret_round_trip(settings):
    blob = seal_hub_secret(settings, bytes(range(16)), bytes(8))
    assert unseal_hub_secret(settings, blob) == (bytes(range(16)), bytes(8))


def test_every_flipped_bit_is_detected(settings):
    blob = seal(settings, b"0123456789abcdef")
    for i in range(len(blob)):
        for bit in (0, 7):
            bad = bytearray(blob)
            bad[i] ^= 1 << bit
            with pytest.raises(SecretError):
                unseal(settings, bytes(bad))


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27), b"\x02" + bytes(40)])
def test_truncated_or_unknown_version(settings, blob):
    with pytest.raises(SecretError):
        unseal(settings, blob)


def test_other_key_or_context_does_not_open(settings):
    blob = seal(settings, b"x", context=b"hub-1")
    with pytest.raises(SecretError):
        unseal(Settings(secret_key="j" * 40), blob, context=b"hub-1")
    with pytest.raises(SecretError):
        unseal(settings, blob, context=b"hub-2")
    assert unseal(settings, blob, context=b"hub-1") == b"x"


def test_sealed_non_pair_is_refused(settings):
    with pytest.raises(SecretError):
        unseal_hub_secret(settings, seal(settings, b"\x01"))
