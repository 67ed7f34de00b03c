# COSE_Sign1 on MicroPython. The argument names a file of four hex lines: a trusted
# public key, a Sign1 it signed, that Sign1's payload, and a Sign1 another key signed.
# Checks the first verifies to the payload and the second and some damaged copies raise
# COSEError only; also checks the COSE WG Ed25519 example. Prints OK.

import sys
from binascii import unhexlify

from cose_vectors import EDDSA_SIG_01

from protocol.cose import verify_sign1
from protocol.errors import COSEError


def refused(data, keys):
    try:
        verify_sign1(data, keys)
    except COSEError:
        return True
    return False


def main(public, good, payload, forged):
    ex = EDDSA_SIG_01
    example_keys = [(ex["kid"], unhexlify(ex["public_key"]))]
    assert verify_sign1(unhexlify(ex["cbor"]), example_keys) == ex["payload"]
    keys = [(b"r1", public)]
    assert verify_sign1(good, keys) == payload
    assert verify_sign1(good, [public]) == payload
    assert refused(forged, keys)
    assert refused(good, [(b"r2", public)])
    assert refused(good[:-1], keys)
    assert refused(good + b"\x00", keys)
    # Every single-byte change to the signed message is refused or leaves it intact.
    for i in range(0, len(good), 7):
        bad = bytearray(good)
        bad[i] ^= 0x41
        try:
            assert verify_sign1(bytes(bad), keys) == payload
        except COSEError:
            pass
    print("OK")


with open(sys.argv[1]) as f:
    main(*[unhexlify(line.strip()) for line in f.read().split()])
