# AES block encryption, the one primitive CCM needs. The hub has cryptolib (ECB only on
# the unix port and on ESP32 builds); CPython has `cryptography`. Both give the same bytes.

import sys

from protocol.errors import ProtocolError

_ON_HUB = sys.implementation.name == "micropython"


def _check_key(key):
    if len(key) not in (16, 24, 32):
        raise ProtocolError("AES key must be 16, 24 or 32 bytes")
    return bytes(key)


# Only the class for this interpreter is made: a hub keeps no heap for the other.
if _ON_HUB:

    class _CryptolibAES:
        """One AES key, encrypting single 16-byte blocks (MicroPython)."""

        def __init__(self, key):
            import cryptolib

            self._c = cryptolib.aes(_check_key(key), 1)  # 1 = ECB

        def encrypt_block(self, block):
            return bytes(self._c.encrypt(block))

        def encrypt_into(self, src, dst):
            # dst may be src: ECB on one block is safe in place, and saves an allocation.
            self._c.encrypt(src, dst)

    AES = _CryptolibAES

else:

    class _CryptographyAES:
        """One AES key, encrypting single 16-byte blocks (CPython)."""

        def __init__(self, key):
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

            self._e = Cipher(algorithms.AES(_check_key(key)), modes.ECB()).encryptor()
            # update_into wants room for a block more than it writes.
            self._out = bytearray(31)

        def encrypt_block(self, block):
            if len(block) != 16:
                raise ProtocolError("AES block must be 16 bytes")
            return self._e.update(bytes(block))

        def encrypt_into(self, src, dst):
            out = self._out
            self._e.update_into(src, out)
            dst[0:16] = out[0:16]

    AES = _CryptographyAES
