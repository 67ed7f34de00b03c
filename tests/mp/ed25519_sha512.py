# FIPS 180-4 SHA-512 examples (NIST CSRC example values), as (piece, times, hex digest):
# the message is `piece` repeated `times`, so a million "a" costs no heap. Run directly on
# MicroPython this checks protocol.sha512 against them and prints OK.

from protocol.sha512 import SHA512, sha512

NIST = (
    (
        b"abc",
        1,
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ),
    (
        b"",
        1,
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ),
    (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        1,
        "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
        "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    ),
    (
        b"a" * 1000,
        1000,
        "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
        "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
    ),
)


def digest_of(piece, times):
    hasher = SHA512()
    for _ in range(times):
        hasher.update(piece)
    return hasher.digest()


def _main():
    import binascii

    for piece, times, digest in NIST:
        assert binascii.hexlify(digest_of(piece, times)).decode() == digest, piece
    assert binascii.hexlify(sha512(b"abc")).decode() == NIST[0][2]
    print("OK")


if __name__ == "__main__":
    _main()
