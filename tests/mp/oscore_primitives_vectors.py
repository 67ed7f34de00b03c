# Published vectors for the primitives under OSCORE (AES, CCM, HMAC, HKDF), shared by
# the CPython tests and the MicroPython script: exact bytes, named after their sections.

from protocol import ccm
from protocol.aes import AES
from protocol.hkdf import hkdf_sha256, hmac_sha256

h = bytes.fromhex


def fips197_appendix_c1_aes128():
    out = AES(h("000102030405060708090a0b0c0d0e0f")).encrypt_block(
        h("00112233445566778899aabbccddeeff")
    )
    assert out == h("69c4e0d86a7b0430d8cdb78070b4c55a"), out


def _rfc3610(nonce, packet, expected):
    # RFC 3610 §8: 8 header bytes are authenticated only, the rest is encrypted.
    key = h("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf")
    nonce, packet, expected = h(nonce), h(packet), h(expected)
    out = ccm.encrypt(key, nonce, packet[8:], packet[:8], 8)
    assert packet[:8] + out == expected, out
    assert ccm.decrypt(key, nonce, out, packet[:8], 8) == packet[8:]


def rfc3610_packet_vector_1():
    _rfc3610(
        "00000003020100a0a1a2a3a4a5",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
        "0001020304050607588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0",
    )


def rfc3610_packet_vector_2():
    _rfc3610(
        "00000004030201a0a1a2a3a4a5",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "000102030405060772c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3ba091d56e10400916",
    )


def rfc4231_test_case_2_hmac_sha256():
    out = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert out == h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"), out


def rfc4231_test_case_6_key_longer_than_block():
    out = hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First")
    assert out == h("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"), out


def rfc5869_a1_test_case_1():
    okm = hkdf_sha256(b"\x0b" * 22, h("000102030405060708090a0b0c"), h("f0f1f2f3f4f5f6f7f8f9"), 42)
    assert okm == h(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    ), okm


def rfc5869_a2_test_case_2():
    ikm = bytes(range(0x00, 0x50))
    salt = bytes(range(0x60, 0xB0))
    info = bytes(range(0xB0, 0x100))
    okm = hkdf_sha256(ikm, salt, info, 82)
    assert okm == h(
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87"
    ), okm


def rfc5869_a3_test_case_3_empty_salt_and_info():
    okm = hkdf_sha256(b"\x0b" * 22, b"", b"", 42)
    assert okm == h(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    ), okm


CHECKS = (
    fips197_appendix_c1_aes128,
    rfc3610_packet_vector_1,
    rfc3610_packet_vector_2,
    rfc4231_test_case_2_hmac_sha256,
    rfc4231_test_case_6_key_longer_than_block,
    rfc5869_a1_test_case_1,
    rfc5869_a2_test_case_2,
    rfc5869_a3_test_case_3_empty_salt_and_info,
)
