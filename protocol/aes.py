# AES block encryption, the one primitive CCM needs. The hub has cryptolib (ECB only on
# the unix port and on ESP32 builds); CPython has `cryptography`. Both give the same bytes.

from protocol.errors import ProtocolError

try:
    from cryptolib import aes as _aes

    class AES:
        """One AES key, encrypting single 16-byte blocks."""

        def __init__(self, key):
            if len(key) not in (16, 24, 32):
                raise ProtocolError("AES key must be 16, 24 or 32 bytes")
            self._c = _aes(bytes(key), 1)  # 1 = ECB

        def encrypt_block(self, block):
            return bytes(self._c.encrypt(block))

        def encrypt_into(self, src, dst):
            # dst may be src: ECB on one block is safe in place, and saves an allocation.
            self._c.encrypt(src, dst)

except ImportError:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    class AES:
        """One AES key, encrypting single 16-byte blocks."""

        def __init__(self, key):
            if len(key) not in (16, 24, 32):
                raise ProtocolError("AES key must be 16, 24 or 32 bytes")
            self._e = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
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
