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
# partition holds the image of the chosen copy's hub/ and protocol/, then the copy's key
# (tools/romfs.py documents both). A copy's installer leaves a record beside its code,
# `romfs.key`: the key, and a hash of the files' names and sizes. While the files match
# that shape and the partition holds that key, the code is mounted at /rom without a byte
# of it read; otherwise (no record, an old install, or a stale one) the files are hashed,
# the record rewritten, and the partition rewritten if it holds anything else. Without a
# partition, or if anything about it fails, the copy's files are imported as they are.
# This file must never raise: a broken boot.py bricks the hub.
import sys

_STATE = "ota.state"
_ROLLBACK = "ota.rollback"
_PENDING = "deploy.pending"
_ROM = "/rom"
_PACKAGES = ("hub", "protocol")
_RECORD = "romfs.key"  # in a copy: its key and shape, hex (tools/romfs.py)
_BLOCK = 4096  # the flash's erase block
_ALIGN = 16  # where the key goes: flash writes want aligned offsets
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


def _copy(path, out, buf):
    with open(path, "rb") as f:
        while True:
            got = f.readinto(buf)
            if not got:
                break
            out(memoryview(buf)[:got])


def _stamps(root, tree, buf):
    # (key, shape) of the copy (tools/romfs.py): SHA-256 of a line "package/name size
    # sha256hex" per file, and of the lines without the hex. buf None: the shape alone
    # (the key b""), from the sizes, which cost no reading.
    import hashlib
    from binascii import hexlify

    key = hashlib.sha256()
    shape = hashlib.sha256()
    for pkg, files, _ in tree:
        for name, size in files:
            line = (pkg + "/" + name + " " + str(size)).encode()
            shape.update(line + b"\n")
            if buf is not None:
                h = hashlib.sha256()
                _copy(root + pkg + "/" + name, h.update, buf)
                key.update(line + b" " + hexlify(h.digest()) + b"\n")
    return (key.digest() if buf is not None else b""), shape.digest()


def _record(root):
    # The copy's record, [key, shape], or None: its installer wrote it after the code.
    from binascii import unhexlify

    try:
        with open(root + _RECORD) as f:
            return [unhexlify(x) for x in f.read().split()][:2] or None
    except (OSError, ValueError):
        return None


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


def _at(n):
    # Where the key follows an image of n bytes: aligned, as flash writes want.
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def _sealed(mem, n):
    # The key the partition holds after its image if that image has n bytes, else None.
    if n and _size(mem) == n and _at(n) + 32 <= len(mem):
        return bytes(mem[_at(n) : _at(n) + 32])
    return None


class _Writer:
    # Writes the partition from its start through io (vfs.rom_ioctl), an erase block at a time.
    def __init__(self, io, n):
        self.io = io
        self.buf = bytearray(_BLOCK)
        self.used = 0
        self.block = 0
        io(3, 0, (n + _BLOCK - 1) // _BLOCK * _BLOCK)  # erases, block 0 first

    def write(self, data):
        while len(data):
            k = min(len(data), _BLOCK - self.used)
            self.buf[self.used : self.used + k] = data[:k]
            self.used += k
            data = data[k:]
            if self.used == _BLOCK:
                self.flush()

    def flush(self):
        if self.used:
            for i in range(self.used, _BLOCK):
                self.buf[i] = 0xFF  # as erased: the key is programmed there on its own
            self.io(4, 0, self.block * _BLOCK, self.buf)
            self.block += 1
            self.used = 0


def _rewrite(io, mem, root, tree, total, key, buf):
    # Only the key makes the partition count, so it goes first and comes back last. Zeros
    # programmed over the old key (flash programs bits to 0 without an erase: even torn,
    # that write breaks it), the erase and the image, read back, then the key alone into
    # erased flash. Cut anywhere, no key fits: the next boot writes it all again.
    import hashlib

    n = len(_head(_FILESYSTEM, total)) + total
    if _at(n) + 32 > len(mem):
        _say("ROMFS partition too small for " + str(n) + " bytes: code runs from files")
        return False
    _say("writing " + str(n) + " bytes of " + (root or "/") + " to the ROMFS partition")
    if _sealed(mem, _size(mem)) is not None:
        io(4, 0, _at(_size(mem)), bytes(32))
    w = _Writer(io, _at(n) + 32)
    h = hashlib.sha256()

    def out(data):
        h.update(data)
        w.write(data)

    out(_head(_FILESYSTEM, total))
    for pkg, files, body in tree:
        out(_named(_DIR, pkg, body))
        for name, size in files:
            out(_named(_FILE, name, len(_head(_DATA, size)) + size) + _head(_DATA, size))
            _copy(root + pkg + "/" + name, out, buf)
    w.flush()
    ok = hashlib.sha256(mem[:n]).digest() == h.digest()
    if ok:
        io(4, 0, _at(n), key)
    io(5, 0)
    if not ok:
        _say("ROMFS partition does not read back: code runs from files")
    return ok


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
    import vfs

    _unmount()
    root = slot + "/" if slot else ""
    tree, total = _tree(root)
    if not tree:
        return False
    mem = memoryview(part)
    sealed = _sealed(mem, len(_head(_FILESYSTEM, total)) + total)
    record = _record(root)
    # The record stands for the code while its files keep the sizes it lists; the key
    # after the image was written last, so an image it seals is whole.
    if record is None or record != [sealed, _stamps(root, tree, None)[1]]:
        buf = bytearray(256)
        key, shape = _stamps(root, tree, buf)
        if record != [key, shape]:  # missing (an older install) or stale
            from binascii import hexlify

            try:
                _write(root + _RECORD, hexlify(key).decode() + " " + hexlify(shape).decode())
            except OSError:
                pass  # the next boot reads the files again
        if sealed != key and not _rewrite(rom_ioctl, mem, root, tree, total, key, buf):
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
for _name in ("_tree", "_copy", "_stamps", "_record", "_size", "_at", "_sealed", "_Writer"):
    del globals()[_name]
for _name in ("_rewrite", "_unmount", "rom", "_name"):
    del globals()[_name]
