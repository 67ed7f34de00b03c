"""ROMFS images of the hub application, as MicroPython >= 1.25 mounts them (vfs.VfsRom):
.mpy files in a ROMFS run in place, so their bytecode and constants stay in flash instead
of the heap.

    python -m tools.romfs SLOT_DIR [-o IMAGE]     # pack SLOT_DIR/hub and SLOT_DIR/protocol

The format (MicroPython's extmod/vfs_rom.c): records of varuint kind, varuint length,
payload; varuints big-endian, 7 bits a byte, the high bit set on all but the last. The
image is one filesystem record (kind 0x14a6b1, which encodes as b"\\xd2\\xcd\\x31", "RM1")
holding directory records (kind 4: name length, name, records) holding file records
(kind 5: name length, name, one verbatim data record of kind 2).

On the hub, boot.py builds the same bytes from the active slot's files and writes them,
followed by their SHA-256 (`digest`), to the ROMFS partition; this module is the host's
copy, used to check boot.py's and to make a partition image for a flasher.
"""

import argparse
import hashlib
import sys
from pathlib import Path

PACKAGES = ("hub", "protocol")  # the slot's directories that hold code
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


def digest(image):
    """What boot.py writes after the image: it proves the image whole."""
    return hashlib.sha256(image).digest()


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
    image = build(files)
    out = Path(a.output or a.slot.rstrip("/") + ".romfs")
    out.write_bytes(image + digest(image))
    print(f"{out}: {len(files)} files, {len(image)} bytes and a 32-byte SHA-256")


if __name__ == "__main__":
    main()
