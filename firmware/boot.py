# Runs first on every boot: chooses which installed copy of the application to run, and
# runs its code in place from the ROMFS partition where the firmware has one.
#
# An update installs the new application beside the running one (directories app0/ and
# app1/) and then writes `ota.state` as "<new> <old> <tries>": the new copy gets a
# few trial boots. The application confirms itself, once it has proved healthy, by
# writing "<new> <old> ok". A copy that used all its tries without confirming is
# abandoned: the old copy becomes active again and `ota.rollback` tells the app to
# report it. With no state file the application lives at the filesystem root (a hub
# deployed by cable). While `deploy.pending` exists (a `portineria deploy` was cut
# short) nothing starts: the hub waits in the REPL for the deploy to be finished.
#
# ROMFS (MicroPython >= 1.25, vfs.rom_ioctl): .mpy files there run from memory-mapped
# flash, so their code takes no heap. The slot's files stay the source of truth: the
# partition holds the image of the chosen copy's hub/ and protocol/ (tools/romfs.py
# documents the format), then its SHA-256. Each boot streams the image the copy's files
# make through SHA-256; if the partition does not hold exactly that (another copy, or a
# write cut short by a power cut), it is rewritten, checked, and mounted at /rom ahead
# of the files. Without a partition, or if anything about it fails, the copy's files
# are imported as they are. This file must never raise: a broken boot.py bricks the hub.
import sys

_STATE = "ota.state"
_ROLLBACK = "ota.rollback"
_PENDING = "deploy.pending"
_ROM = "/rom"
_PACKAGES = ("hub", "protocol")
_BLOCK = 4096  # the flash's erase block
_FILESYSTEM = 0x14A6B1  # ROMFS record kinds
_DATA = 2
_DIR = 4
_FILE = 5

try:
    from vfs import rom_ioctl
except ImportError:  # CPython, or firmware built without ROMFS; a test bench may lend one
    rom_ioctl = globals().get("rom_ioctl")


def _say(text):
    print("boot: " + text)
    try:
        with open("hub.log", "a") as f:
            f.write("boot: " + text + "\n")
    except OSError:
        pass


def _exists(path):
    import os

    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _read_state():
    try:
        with open(_STATE) as f:
            active, previous, tries = f.read().split()
        return active, previous, tries
    except (OSError, ValueError):
        return None


def _write(path, text):
    # Write aside and rename, so a power cut leaves the old or the new state, never half.
    import os

    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def choose():
    """Return the directory of the application copy to run ("" for the root)."""
    state = _read_state()
    if state is None:
        return ""
    active, previous, tries = state
    if tries == "ok":
        return active
    try:
        left = int(tries)
    except ValueError:
        left = 0
    if left <= 0:
        _write(_STATE, previous + " " + active + " ok")
        _write(_ROLLBACK, active)
        return previous
    _write(_STATE, active + " " + previous + " " + str(left - 1))
    return active


# --- ROMFS -------------------------------------------------------------------------------


def _uint(n):
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.insert(0, 0x80 | (n & 0x7F))
    return bytes(out)


def _head(kind, n):
    return _uint(kind) + _uint(n)


def _named(kind, name, n):
    # A directory or file record's head and name; n: what follows the name.
    name = name.encode()
    return _head(kind, len(_uint(len(name))) + len(name) + n) + _uint(len(name)) + name


def _tree(root):
    # [(package, [(name, size)], bytes of its records)] of the copy's code files, and the
    # bytes of the filesystem record's payload.
    import os

    tree = []
    total = 0
    for pkg in _PACKAGES:
        files = []
        body = 0
        try:
            names = sorted(os.listdir(root + pkg))
        except OSError:
            continue
        for name in names:
            st = os.stat(root + pkg + "/" + name)
            if st[0] & 0x4000 or not (name.endswith(".mpy") or name.endswith(".py")):
                continue  # a directory, or not code
            n = len(_head(_DATA, st[6])) + st[6]
            files.append((name, st[6]))
            body += len(_named(_FILE, name, n)) + n
        if files:
            tree.append((pkg, files, body))
            total += len(_named(_DIR, pkg, body)) + body
    return tree, total


def _emit(root, tree, total, out, buf):
    # The image, piece by piece, to out(bytes-like).
    out(_head(_FILESYSTEM, total))
    for pkg, files, body in tree:
        out(_named(_DIR, pkg, body))
        for name, size in files:
            out(_named(_FILE, name, len(_head(_DATA, size)) + size) + _head(_DATA, size))
            with open(root + pkg + "/" + name, "rb") as f:
                while True:
                    got = f.readinto(buf)
                    if not got:
                        break
                    out(memoryview(buf)[:got])


def _size(mem):
    # Bytes of the ROMFS image at the start of mem (0 if there is none).
    if bytes(mem[:3]) != b"\xd2\xcd\x31":
        return 0
    n = 0
    for i in range(3, min(len(mem), 9)):
        n = n << 7 | mem[i] & 0x7F
        if not mem[i] & 0x80:
            return i + 1 + n
    return 0


def _holds(mem, want):
    import hashlib

    n = _size(mem)
    return (
        0 < n <= len(mem) - 32
        and bytes(mem[n : n + 32]) == want
        and (hashlib.sha256(mem[:n]).digest() == want)
    )


class _Writer:
    # Writes a partition from its start, a whole erase block at a time: through the
    # partition's block device (ESP32) or vfs.rom_ioctl's prepare/write/end.
    def __init__(self, part, n, ioctl):
        self.part = part
        self.ioctl = ioctl
        self.buf = bytearray(_BLOCK)
        self.used = 0
        self.block = 0
        if not hasattr(part, "writeblocks"):
            ioctl(3, 0, (n + _BLOCK - 1) // _BLOCK * _BLOCK)

    def write(self, data):
        while len(data):
            k = min(len(data), _BLOCK - self.used)
            self.buf[self.used : self.used + k] = data[:k]
            self.used += k
            data = data[k:]
            if self.used == _BLOCK:
                self._flush()

    def _flush(self):
        for i in range(self.used, _BLOCK):
            self.buf[i] = 0xFF  # as erased
        if hasattr(self.part, "writeblocks"):
            self.part.writeblocks(self.block, self.buf)  # erases, then writes
        else:
            self.ioctl(4, 0, self.block * _BLOCK, self.buf)
        self.block += 1
        self.used = 0

    def close(self):
        if self.used:
            self._flush()
        if not hasattr(self.part, "writeblocks"):
            self.ioctl(5, 0)


def _unmount():
    import vfs

    try:
        vfs.umount(_ROM)  # the firmware mounts whatever the partition held at start-up
    except OSError:
        pass
    for p in (_ROM, _ROM + "/lib"):
        while p in sys.path:
            sys.path.remove(p)


def rom(slot):
    """Mount the copy's code from the ROMFS partition at /rom, (re)writing the partition
    first if it holds anything else; False if the copy's files must be imported instead."""
    if rom_ioctl is None:
        return False
    part = rom_ioctl(2, 0)
    if isinstance(part, int):
        return False  # no ROMFS partition (a negative errno)
    import hashlib

    import vfs

    _unmount()
    root = slot + "/" if slot else ""
    tree, total = _tree(root)
    if not tree:
        return False
    buf = bytearray(256)
    h = hashlib.sha256()
    _emit(root, tree, total, h.update, buf)
    want = h.digest()
    mem = memoryview(part)
    if not _holds(mem, want):
        n = len(_head(_FILESYSTEM, total)) + total
        if n + 32 > len(mem):
            _say("ROMFS partition too small for " + str(n) + " bytes: code runs from files")
            return False
        _say("writing " + str(n) + " bytes of " + (slot or "/") + " to the ROMFS partition")
        w = _Writer(part, n + 32, rom_ioctl)
        _emit(root, tree, total, w.write, buf)
        w.write(want)  # last: until it is there the partition does not check out
        w.close()
        mem = memoryview(part)
        if not _holds(mem, want):
            _say("ROMFS partition does not read back: code runs from files")
            return False
    vfs.mount(vfs.VfsRom(mem), _ROM)  # pyright: ignore[reportAttributeAccessIssue]
    sys.path.insert(0, _ROM)
    return True


if _exists(_PENDING):
    _say(_PENDING + ": a deploy was cut short; run `portineria deploy --port DEV` again")
    _app = None
else:
    try:
        _app = choose()
    except OSError:
        _app = ""  # an unwritable flash must not stop the hub from running what it has
    if _app:
        sys.path.insert(0, _app)
    try:
        rom(_app)
    except Exception as e:  # the files are still there: run from them
        _say("ROMFS: " + repr(e) + ": code runs from files")
        try:
            _unmount()
        except Exception:
            pass

# boot.py's globals outlive it (they are __main__'s, which main.py shares): dropping its
# functions frees their bytecode, compiled from source, for the app. _app stays: what ran.
for _name in ("_say", "_exists", "_read_state", "_write", "choose", "_uint", "_head", "_named"):
    del globals()[_name]
for _name in ("_tree", "_emit", "_size", "_holds", "_Writer", "_unmount", "rom", "_name"):
    del globals()[_name]
