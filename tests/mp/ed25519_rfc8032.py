# Ed25519 on MicroPython: with no arguments, the RFC 8032 §7.1 vectors verify and altered
# ones do not; with arguments (public key, message, signature as hex, repeated), each
# triple verifies and an altered one does not. Prints OK (and the count of triples).

import sys
from binascii import unhexlify

from ed25519_vectors import RFC8032_7_1

from protocol.ed25519 import verify

_L = 2**252 + 27742317777372353535851937790883648493


def check(public, message, signature):
    assert verify(public, message, signature)
    bad = bytearray(signature)
    bad[0] ^= 1
    assert not verify(public, message, bytes(bad))
    assert not verify(public, message + b"x", signature)
    s = int.from_bytes(signature[32:], "little") + _L
    assert not verify(public, message, signature[:32] + s.to_bytes(32, "little"))


def main(args):
    if not args:
        for vector in RFC8032_7_1:
            check(*[unhexlify(x) for x in vector[2:]])
        print("OK")
        return
    for i in range(0, len(args), 3):
        check(*[unhexlify(x) for x in args[i : i + 3]])
    print("OK", len(args) // 3)


main(sys.argv[1:])
