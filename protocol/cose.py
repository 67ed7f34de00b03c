# COSE_Sign1 (RFC 9052 §4.2) verification with EdDSA over Ed25519 (alg -8), for OTA
# manifests signed by an offline release key. Only verification lives here: protocol/
# is copied to the hub, which must never hold a signing key or signing code.
#
# Everything is checked before a signature is: the structure, header labels (ints or
# text strings only, none in both buckets, no critical labels we do not process), and
# alg in the protected bucket, so an attacker cannot swap it. Anything wrong raises
# COSEError and nothing else; the payload is returned only once a trusted key verified.

from protocol import cbor
from protocol.ed25519 import verify
from protocol.errors import CBORError, COSEError

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


SIGN1_TAG = const(18)  # COSE_Sign1_Tagged, RFC 9052 §2
ALG = const(1)  # header labels, RFC 9052 §3.1
CRIT = const(2)
KID = const(4)
EDDSA = const(-8)  # RFC 9053 §2.2

_UNDERSTOOD = (ALG, KID)  # the labels this module acts on
_SIG_LEN = const(64)


def _header_map(m, what):
    if type(m) is not dict:
        raise COSEError(what + " header is not a map")
    for label in m:
        # A bool or float key would compare equal to an int label in a dict: refuse it.
        if type(label) is not int and type(label) is not str:
            raise COSEError(what + " header has a label that is neither int nor text")
    return m


def _protected(raw):
    if type(raw) is not bytes:
        raise COSEError("protected header is not a byte string")
    if not raw:
        return {}  # RFC 9052 §3: a zero-length string stands for the empty map
    try:
        return _header_map(cbor.loads(raw), "protected")
    except CBORError as e:
        raise COSEError("protected header is not CBOR: " + str(e)) from None


def _decode(data):
    # The fields a verifier needs from a COSE_Sign1, tagged 18 or untagged, after every
    # check that needs no key.
    try:
        item = cbor.loads(data)
    except CBORError as e:
        raise COSEError("not CBOR: " + str(e)) from None
    if isinstance(item, cbor.Tag):
        if item.tag != SIGN1_TAG:
            raise COSEError("not a COSE_Sign1: tag " + str(item.tag))
        item = item.value
    if type(item) is not list or len(item) != 4:
        raise COSEError("COSE_Sign1 must be an array of four items")
    raw, unprotected, payload, signature = item
    protected = _protected(raw)
    _header_map(unprotected, "unprotected")
    for label in unprotected:
        if label in protected:
            raise COSEError("header label in both buckets")  # RFC 9052 §3
    if type(payload) is not bytes:
        raise COSEError("payload missing or not a byte string")  # detached: not for us
    if type(signature) is not bytes or len(signature) != _SIG_LEN:
        raise COSEError("signature is not 64 bytes")
    alg = protected.get(ALG)
    if type(alg) is not int or alg != EDDSA:
        raise COSEError("protected alg is not EdDSA")
    crit = protected.get(CRIT)
    if crit is not None:
        # §3.1: crit is a non-empty array of labels the recipient must understand.
        if type(crit) is not list or not crit:
            raise COSEError("crit is not a non-empty array")
        for label in crit:
            if type(label) is not int or label not in _UNDERSTOOD:
                raise COSEError("unsupported critical header")
    kid = protected.get(KID, unprotected.get(KID))
    if kid is not None and type(kid) is not bytes:
        raise COSEError("kid is not a byte string")
    return raw, payload, signature, kid


def verify_sign1(data, keys, external_aad=b""):
    """The payload of the COSE_Sign1 `data` once its EdDSA signature verifies under one
    of `keys`; raises COSEError otherwise. Each key is a 32-byte Ed25519 public key or a
    `(kid, public_key)` pair: when the message names a kid (label 4), only keys with that
    kid, or with none, are tried."""
    raw, payload, signature, kid = _decode(data)
    # RFC 9052 §4.4: what was signed is the Sig_structure, not the message itself.
    to_be_signed = cbor.dumps(["Signature1", raw, bytes(external_aad), payload])
    tried = False
    for entry in keys:
        if isinstance(entry, (tuple, list)):
            key_id, key = entry
            if kid is not None and key_id is not None and bytes(key_id) != kid:
                continue
        else:
            key = entry
        tried = True
        if verify(key, to_be_signed, signature):
            return payload
    if not tried:
        raise COSEError("no trusted key with that kid")
    raise COSEError("signature does not verify")
