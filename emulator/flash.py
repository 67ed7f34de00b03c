"""A hub's flash as the firmware sees it: a host directory capped at the hub's filesystem
size. statvfs reports the capped figures and a write that would need more blocks than are
free fails with OSError(28, ENOSPC), as LittleFS does on a full hub."""

import builtins
import errno
import os

BLOCK = 4096
DEFAULT_CAPACITY = 2 * 1024 * 1024  # the vfs partition of a 4 MB ESP32 build


def _blocks(size):
    return (size + BLOCK - 1) // BLOCK


class Flash:
    def __init__(self, root, capacity=DEFAULT_CAPACITY):
        self.root = os.path.realpath(root)
        self.capacity = capacity

    def used_blocks(self):
        n = 0
        for dirpath, dirnames, filenames in os.walk(self.root):
            n += len(dirnames)  # LittleFS spends a metadata pair per directory; count one
            for name in filenames:
                try:
                    n += _blocks(os.path.getsize(os.path.join(dirpath, name)))
                except OSError:
                    pass  # removed while we walked
        return n

    def statvfs(self):
        total = self.capacity // BLOCK
        free = max(0, total - self.used_blocks())
        return (BLOCK, BLOCK, total, free, free, 0, 0, 0, 0, 255)

    def inside(self, path):
        p = os.path.realpath(path)
        return p == self.root or p.startswith(self.root + os.sep)

    def check_growth(self, fileno, pos, nbytes):
        """Raise ENOSPC if writing nbytes at pos would need more blocks than are free."""
        size = os.fstat(fileno).st_size
        extra = _blocks(max(size, pos + nbytes)) - _blocks(size)
        if extra and self.used_blocks() + extra > self.capacity // BLOCK:
            raise OSError(errno.ENOSPC, "ENOSPC")

    def install(self):
        """Make this process's open() and os.statvfs see the capped flash."""
        real_open = builtins.open
        real_statvfs = os.statvfs

        def open_(file, mode="r", *args, **kw):
            f = real_open(file, mode, *args, **kw)
            if any(c in mode for c in "wax+") and isinstance(file, str) and self.inside(file):
                return _CappedFile(f, self, "b" in mode)
            return f

        def statvfs(path):
            if path == "/" or self.inside(path):
                return self.statvfs()
            return real_statvfs(path)

        builtins.open = open_
        os.statvfs = statvfs


class _CappedFile:
    """A file opened for writing on the flash: each write is checked, then reaches disk at
    once so the next check sees it."""

    def __init__(self, f, flash, binary):
        self._f = f
        self._flash = flash
        self._binary = binary

    def write(self, data):
        n = len(data) if self._binary else len(data.encode())
        self._f.flush()
        self._flash.check_growth(self._f.fileno(), self._f.tell(), n)
        r = self._f.write(data)
        self._f.flush()
        return r

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __iter__(self):
        return iter(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()
