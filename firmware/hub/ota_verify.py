"""Whether a release may be installed on this hub: the manifest's COSE signature under
a trusted key and its shape, then its component, sequence, hardware class and the flash
it needs; and the downloaded bundle's SHA-256. Each refusal is a Refused whose message
is the reason the heartbeat reports (key 9)."""

from hub import ota_files as fs
from protocol import cbor
from protocol.errors import COSEError, ProtocolError

try:
    from micropython import const
except ImportError:  # CPython (the emulator, tests): the constants here are all ints
    const = int

_MARGIN = const(16384)  # flash left for logs, outbox and configuration during an update


def manifest(raw, slot):
    """The manifest map signed in raw under a key the slot (or provisioning) trusts;
    None if raw is not a manifest at all. Refused("signature") if no trusted key signed
    it: a forged or foreign release."""
    from protocol import cose  # Ed25519 and SHA-512: heavy, needed only here

    keys = fs.load(slot + "/" + fs.KEYS) or fs.load(fs.KEYS) or ()
    try:
        m = cbor.loads(cose.verify_sign1(raw, keys))
    except COSEError:
        raise fs.Refused("signature") from None
    except ProtocolError:
        return None
    if not isinstance(m, dict):
        return None
    files = m.get(fs.M_FILES)
    if not isinstance(files, list) or not isinstance(m.get(fs.M_SIZE), int):
        return None
    for e in files:
        if not (isinstance(e, list) and len(e) == 3 and isinstance(e[0], str)):
            return None
        if ".." in e[0] or e[0].startswith("/"):
            return None  # a file outside its slot is not an application file
    return m


def check(m, seq, slot):
    """Refused unless the release m is the hub app offered as seq, newer than anything
    installed, built for this hardware, and fits beside the running copy."""
    if m.get(fs.M_COMPONENT) != "hub-app" or m.get(fs.M_SEQ) != seq:
        raise fs.Refused("manifest")
    if seq < fs.high_water(slot):
        raise fs.Refused("sequence")
    if m.get(fs.M_HW) != fs.hw_class():
        raise fs.Refused("hardware")
    need = fs.blocks(m[fs.M_SIZE]) + sum(fs.blocks(e[1]) for e in m[fs.M_FILES]) + _MARGIN
    have = fs.free() + fs.du(fs.other(slot)) + fs.blocks(max(fs.size(fs.BUNDLE), 0))
    if need > have:
        raise fs.Refused("space")


def bundle(m):
    """Refused("integrity") unless the downloaded bundle is the one m signs."""
    if fs.sha256(fs.BUNDLE, bytearray(fs.BLOCK)) != m[fs.M_DIGEST]:
        raise fs.Refused("integrity")
