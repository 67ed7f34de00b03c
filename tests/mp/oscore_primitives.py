# AES, CCM, HMAC and HKDF vectors under MicroPython, plus CCM with the BTHome v2
# parameters (13-byte nonce, 4-byte tag) round-tripping; prints OK when all pass.

import oscore_primitives_vectors

from protocol.ccm import CCM

for check in oscore_primitives_vectors.CHECKS:
    check()

c = CCM(b"\x11" * 16, 13, 4)
nonce = bytes(range(13))
for n in (0, 1, 15, 16, 17, 60):
    data = c.encrypt(nonce, bytes(range(n)), b"\x11")
    assert len(data) == n + 4
    assert c.decrypt(nonce, data, b"\x11") == bytes(range(n))
    assert c.decrypt(nonce, data, b"\x12") is None
print("OK")
