"""What an update keeps on flash, and how hub.ota's modules read and write it: the file
names boot.py shares, the manifest's keys, power-cut-safe writes, sizes in filesystem
blocks, SHA-256 of a file, and the two hardware calls tests stand in for."""

import hashlib
import os
import sys

from protocol import cbor
from protocol.errors import ProtocolError

try:
    from micropython import const
except ImportError:  # CPython (the emulator, tests): the constants here are all ints
    const = int

STATE = "ota.state"  # boot.py's: "<running> <previous> <trial boots left | ok>"
ROLLBACK = "ota.rollback"  # boot.py's: the slot it gave up on
KEYS = "ota.keys"  # CBOR [[kid, key], ...]: at the root (provisioning) or in a slot
SEQ = "ota.seq"  # the highest sequence number ever installed (anti-rollback)
REPORT = "ota.report"  # the last outcome, CBOR [state, seq, detail]
MANIFEST = "ota.m"  # the signed manifest of the download under way
BUNDLE = "ota.bin"  # the bundle, as far as downloaded
RELEASE = "release.cbor"  # in a slot: the manifest it was installed from
BLOCK = const(1024)  # a CoAP block, and the buffer files are copied and hashed through
_FS_BLOCK = const(4096)
# Manifest keys (tools/release.py).
M_SEQ = const(2)
M_COMPONENT = const(3)
M_VERSION = const(4)
M_HW = const(5)
M_SIZE = const(6)
M_DIGEST = const(7)
M_FILES = const(8)
M_TRIAL = const(9)
M_KEYS = const(10)


class Refused(Exception):
    """The release must not be installed; the message is the reason reported."""


def hw_class():
    return sys.implementation.name + "-" + sys.platform


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def load(path):
    data = read(path)
    try:
        return cbor.loads(data) if data else None
    except (ProtocolError, ValueError):  # a damaged file is no file
        return None


def write(path, data):
    # Aside and rename: a power cut leaves the old or the new file, never half of one.
    with open(path + ".tmp", "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    try:
        os.rename(path + ".tmp", path)
    except OSError:  # FAT does not rename over a file
        os.remove(path)
        os.rename(path + ".tmp", path)


def size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass


def is_dir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def du(path, rm=False):
    """Bytes the tree at path occupies, in whole filesystem blocks; rm: remove it."""
    if not is_dir(path):
        n = blocks(max(size(path), 0))
        if rm:
            remove(path)
        return n
    n = sum(du(path + "/" + e, rm) for e in os.listdir(path))
    if rm:
        os.rmdir(path)
    return n


def blocks(n):
    return (n + _FS_BLOCK - 1) // _FS_BLOCK * _FS_BLOCK


def sha256(path, buf):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        n = f.readinto(buf)
        while n:
            h.update(memoryview(buf)[:n])
            n = f.readinto(buf)
    return h.digest()


def state():
    """(running slot, previous slot, trial boots left or "ok"); "." is the flash root."""
    try:
        with open(STATE) as f:
            running, previous, tries = f.read().split()
        return running, previous, tries
    except (OSError, ValueError):
        return ".", ".", "ok"


def release(slot):
    """The manifest map the slot was installed from ({} for a copy deployed by cable)."""
    m = load(slot + "/" + RELEASE)
    return m if isinstance(m, dict) else {}


def other(slot):
    return "app1" if slot == "app0" else "app0"


def high_water(slot):
    """The lowest sequence number the hub may still install (anti-rollback)."""
    try:
        mark = int(read(SEQ))
    except (TypeError, ValueError):
        mark = 0
    return max(mark, release(slot).get(M_SEQ, 0)) + 1


def free():
    from hub import hal

    return hal.flash_free()[0]


def reset():
    from hub import hal

    hal.reset()
