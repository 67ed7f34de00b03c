"""ROMFS images of the hub application, as MicroPython >= 1.25 mounts them (vfs.VfsRom):
.mpy files in a ROMFS run in place, so their bytecode and constants stay in flash instead
of the heap.

    python -m tools.romfs SLOT_DIR [-o IMAGE]     # pack SLOT_DIR/hub and SLOT_DIR/protocol

The format (MicroPython's extmod/vfs_rom.c): records of varuint kind, varuint length,
payload; varuints big-endian, 7 bits a byte, the high bit set on all but the last. The
image is one filesystem record (kind 0x14a6b1, which encodes as b"\\xd2\\xcd\\x31", "RM1")
holding directory records (kind 4: name length, name, records) holding file records
(kind 5: name length, name, one verbatim data record of kind 2).

On the hub, boot.py builds the same bytes from the active slot's files and writes them to
the ROMFS partition, then the copy's `key` at the next 16-byte boundary (`partition`). The
key is SHA-256 over one line "package/name size sha256hex\n" per file, in the image's
order; the `shape` is the same without the hex. Whoever installs a copy (hub.ota_install,
`portineria deploy`) writes both, in hex, to `romfs.key` beside it (`slot_record`), last:
then boot.py, finding the files of that shape and the partition sealed with that key,
mounts it without reading the code. The key goes into the partition last, and the old one
is zeroed first, so a partition whose write was cut short never holds a key that fits.
This module is the host's copy, used to check boot.py's and to make a partition image
for a flasher.
"""

import argparse
import hashlib
import sys
from pathlib import Path

PACKAGES = ("hub", "protocol")  # the slot's directories that hold code
RECORD = "romfs.key"  # beside a copy's code: "<key hex> <shape hex>"
_ALIGN = 16  # the key's offset after the image: flash writes want aligned offsets
_FILESYSTEM = 0x14A6B1
_DATA = 2
_DIR = 4
_FILE = 5


def varuint(n):
    out = bytearray([n & 0x7F])
    n >>= 7
    while n:
        out.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(out)


def record(kind, payload):
    return varuint(kind) + varuint(len(payload)) + payload


def _named(kind, name, body):
    name = name.encode()
    return record(kind, varuint(len(name)) + name + body)


def build(files):
    """The image for {"dir/name": bytes} (one directory level, as a slot has)."""
    dirs = {}
    for path in sorted(files):
        d, name = path.split("/")
        dirs.setdefault(d, []).append(_named(_FILE, name, record(_DATA, files[path])))
    return record(_FILESYSTEM, b"".join(_named(_DIR, d, b"".join(f)) for d, f in dirs.items()))


def code(files):
    """The entries of {path: bytes} that boot.py packs, in the image's order."""
    return {
        p: files[p]
        for p in sorted(files)
        if p.count("/") == 1 and p.split("/")[0] in PACKAGES and p.endswith((".mpy", ".py"))
    }


def _lines(files, hashes):
    return "".join(
        f"{p} {len(d)}" + (f" {hashlib.sha256(d).hexdigest()}" if hashes else "") + "\n"
        for p, d in code(files).items()
    ).encode()


def key(files):
    """The copy's key: what boot.py writes after the image, and the record names."""
    return hashlib.sha256(_lines(files, True)).digest()


def shape(files):
    """What boot.py can check without reading the code: the files' names and sizes."""
    return hashlib.sha256(_lines(files, False)).digest()


def slot_record(files):
    """The text of romfs.key for a copy holding {path: bytes} (other files are ignored)."""
    return key(files).hex() + " " + shape(files).hex()


def partition(files):
    """The partition's content for a copy, as boot.py leaves it (erased bytes after)."""
    image = build(code(files))
    at = -(-len(image) // _ALIGN) * _ALIGN
    return image.ljust(at, b"\xff") + key(files)


def slot_files(slot):
    """The code files boot.py packs from a slot directory: {"hub/app.mpy": bytes, ...}."""
    files = {}
    for pkg in PACKAGES:
        for p in sorted((Path(slot) / pkg).glob("*")):
            if p.is_file() and p.name.endswith((".mpy", ".py")):
                files[pkg + "/" + p.name] = p.read_bytes()
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.romfs", description=__doc__.split("\n")[0])
    ap.add_argument("slot", help="a directory holding hub/ and protocol/ (.mpy)")
    ap.add_argument("-o", "--output", help="image file (default: SLOT.romfs)")
    a = ap.parse_args(argv)
    files = slot_files(a.slot)
    if not files:
        sys.exit(f"romfs: {a.slot} has no hub/ or protocol/ files")
    out = Path(a.output or a.slot.rstrip("/") + ".romfs")
    out.write_bytes(partition(files))
    print(f"{out}: {len(files)} files, {out.stat().st_size} bytes with the copy's key")


if __name__ == "__main__":
    main()
