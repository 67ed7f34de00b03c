# COSE WG examples (github.com/cose-wg/Examples), shared by the CPython tests and the
# MicroPython script. eddsa-examples/eddsa-sig-01.json is the only Ed25519 COSE_Sign1
# there: RFC 8032 TEST 1's key, kid "11" unprotected, alg and content type 0 protected.

EDDSA_SIG_01 = {
    "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "kid": b"11",
    "payload": b"This is the content.",
    "to_be_signed": "846a5369676e61747572653145a2012703004054546869732069732074686520636f6e74656e742e",
    "cbor": "d28445a201270300a10442313154546869732069732074686520636f6e74656e742e58407142fd2ff96d56db85bee905a76ba1d0b7321a95c8c4d3607c5781932b7afb8711497dfa751bf40b58b3bcc32300b1487f3db34085eef013bf08f4a44d6fef0d",
}
