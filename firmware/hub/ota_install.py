"""Installing a verified bundle: each file into the inactive slot, read back and checked
against its digest, then the trusted keys and the manifest beside them, the copy's
ROMFS record (boot.py's romfs.key: with it boot.py mounts the code without hashing it),
and last ota.state, the one write that changes what boot.py starts. Until then the running copy
is what boots, so a power cut anywhere leaves the old or the new application whole.

Bundle format (tools/release.py): b"PTB1", then per file of the manifest, in its order,
a 2-byte path length, the path, a 4-byte size and the bytes."""

import hashlib
import os
from binascii import hexlify

from hub import ota_files as fs
from protocol import cbor

_MAGIC = b"PTB1"
_RECORD = "romfs.key"  # boot.py's
_CODE = ("hub", "protocol")  # the packages boot.py packs into the ROMFS partition


def install(m, slot):
    """Install release m from ota.bin beside the running slot and arm its trial."""
    new = fs.other(slot)
    fs.du(new, rm=True)
    os.mkdir(new)
    buf = bytearray(fs.BLOCK)
    with open(fs.BUNDLE, "rb") as f:
        if f.read(4) != _MAGIC:
            raise fs.Refused("integrity")
        for path, size, digest in m[fs.M_FILES]:
            n = int.from_bytes(f.read(2), "big")
            if f.read(n) != path.encode() or int.from_bytes(f.read(4), "big") != size:
                raise fs.Refused("integrity")  # the bundle lists other files
            _copy(f, new + "/" + path, size, digest, buf)
        if f.read(1):
            raise fs.Refused("integrity")
    keys = m.get(fs.M_KEYS)
    keys = cbor.dumps(keys) if keys else fs.read(slot + "/" + fs.KEYS) or fs.read(fs.KEYS)
    if keys:
        fs.write(new + "/" + fs.KEYS, keys)
    fs.write(new + "/" + fs.RELEASE, cbor.dumps(m))
    fs.write(new + "/" + _RECORD, record(m[fs.M_FILES]))
    boots = (m.get(fs.M_TRIAL) or (3,))[0]
    # The one step that changes what boots; everything before it can be redone.
    fs.write(fs.STATE, new + " " + slot + " " + str(boots))
    fs.write(fs.SEQ, str(m[fs.M_SEQ]))


def _copy(src, path, size, digest, buf):
    # Write one file of the bundle, then read it back: what is checked is what is stored.
    d = ""
    for part in path.split("/")[:-1]:
        d = d + "/" + part if d else part
        if not fs.is_dir(d):
            os.mkdir(d)
    with open(path, "wb") as out:
        left = size
        while left:
            n = src.readinto(memoryview(buf)[: min(left, len(buf))])
            if not n:
                raise fs.Refused("integrity")
            out.write(memoryview(buf)[:n])
            left -= n
    if fs.sha256(path, buf) != digest:
        raise fs.Refused("integrity")


def record(files):
    """boot.py's record of a copy of [(path, size, sha256)]: the key and shape (hex) of
    its code files (tools/romfs.py), from the digests every file was checked against."""
    key = hashlib.sha256()
    shape = hashlib.sha256()
    for path, size, digest in sorted(files):
        pkg, _, name = path.partition("/")
        if pkg in _CODE and "/" not in name and (name.endswith(".py") or name.endswith(".mpy")):
            line = (path + " " + str(size)).encode()
            shape.update(line + b"\n")
            key.update(line + b" " + hexlify(digest) + b"\n")
    return hexlify(key.digest()).decode() + " " + hexlify(shape.digest()).decode()
