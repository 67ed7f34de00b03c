"""Encryption at rest of hub secrets and BLE bind keys, with a key from the settings.

    blob = seal(settings, plaintext)       # version byte, 12-byte nonce, AES-GCM ciphertext
    plaintext = unseal(settings, blob)     # SecretError if the blob was altered or the key
                                           # is not the one it was sealed with

The 256-bit AES-GCM key is derived with HKDF-SHA256 from settings.secret_key, so the key
in the settings may be any long string. Every seal draws a fresh random nonce (96 bits;
we seal a few thousand values, far from the birthday bound). The version byte is also
authenticated, so a later format or key scheme can be told apart and not mistaken.

A hub's OSCORE secrets are sealed as the CBOR array [master_secret, master_salt]:
seal_hub_secret() / unseal_hub_secret() do that encoding in one place.
"""

import os
from functools import lru_cache

import cbor2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
_NONCE = 12
_TAG = 16
_INFO = b"portineria fleet secrets at rest v1"


class SecretError(Exception):
    """A sealed blob could not be opened: altered, truncated, or sealed under another key."""


@lru_cache(maxsize=4)
def _aead(secret_key):
    # Cached: HKDF per call would be cheap, but the CoAP side unseals on every cache miss.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(key)


def seal(settings, plaintext, context=b""):
    """Encrypt and authenticate `plaintext`; `context` (e.g. the hub id) is bound to the
    blob without being stored in it, so a blob copied to another row will not open."""
    nonce = os.urandom(_NONCE)
    header = bytes([VERSION])
    return header + nonce + _aead(settings.secret_key).encrypt(nonce, plaintext, header + context)


def unseal(settings, blob, context=b""):
    """The plaintext of a blob made by seal() with the same key and context."""
    blob = bytes(blob)
    if len(blob) < 1 + _NONCE + _TAG or blob[0] != VERSION:
        raise SecretError("sealed secret has an unknown format")
    header, nonce = blob[:1], blob[1 : 1 + _NONCE]
    try:
        return _aead(settings.secret_key).decrypt(nonce, blob[1 + _NONCE :], header + context)
    except InvalidTag:
        raise SecretError("sealed secret does not open with this server's key") from None


def seal_hub_secret(settings, master_secret, master_salt):
    """The Hub.secret_enc value for a hub's OSCORE Master Secret and Salt."""
    return seal(settings, cbor2.dumps([bytes(master_secret), bytes(master_salt)]))


def unseal_hub_secret(settings, blob):
    """(master_secret, master_salt) from Hub.secret_enc."""
    plain = unseal(settings, blob)
    try:
        secret, salt = cbor2.loads(plain)
    except (ValueError, TypeError, cbor2.CBORDecodeError):
        raise SecretError("sealed hub secret is not [secret, salt]") from None
    if not isinstance(secret, bytes) or not isinstance(salt, bytes):
        raise SecretError("sealed hub secret is not [secret, salt]")
    return secret, salt
