# An in-memory file system for the outbox where the power can fail in the middle of a
# write: the bytes before the cut stay (a torn write), then every call fails until the
# test "reboots" by calling power_on(). Runs on CPython and MicroPython alike.


class PowerCut(Exception):
    pass


class FaultFS:
    def __init__(self, replace=True):
        self.files = {}
        self.replace = replace  # rename over an existing file: LittleFS yes, FAT no
        self.budget = -1  # bytes or operations left before the cut; -1: no cut
        self.down = False
        self.writes = 0  # write() calls and bytes, for wear figures
        self.written = 0
        self.syncs = 0

    def cut_after(self, budget):
        self.budget = budget

    def power_on(self):
        self.down = False
        self.budget = -1

    def _spend(self, n):
        # How many of n units happen before the power fails.
        if self.down:
            raise PowerCut()
        if self.budget < 0 or n <= self.budget:
            if self.budget >= 0:
                self.budget -= n
            return n
        done = self.budget
        self.budget = 0
        self.down = True
        return done

    def _op(self):
        # A metadata operation happens entirely or not at all.
        if self._spend(1) < 1:
            raise PowerCut()

    def open(self, path, mode):
        if "r" in mode:
            if path not in self.files:
                raise OSError(2)
        else:
            self._op()
            if "w" in mode or path not in self.files:
                self.files[path] = bytearray()
        return _File(self, path)

    def rename(self, old, new):
        if old not in self.files or (new in self.files and not self.replace):
            raise OSError(17)
        self._op()
        self.files[new] = self.files.pop(old)

    def remove(self, path):
        if path not in self.files:
            raise OSError(2)
        self._op()
        del self.files[path]

    def size(self, path):
        return len(self.files[path]) if path in self.files else -1

    def mkdir(self, path):
        pass

    def sync(self):
        if self.down:
            raise PowerCut()
        self.syncs += 1


class _File:
    def __init__(self, fs, path):
        self.fs = fs
        self.path = path
        self.pos = 0

    def write(self, data):
        fs = self.fs
        data = bytes(data)
        n = fs._spend(len(data))
        fs.files[self.path].extend(data[:n])
        fs.writes += 1
        fs.written += n
        if n < len(data):
            raise PowerCut()
        return n

    def seek(self, pos):
        self.pos = pos

    def readinto(self, buf):
        data = self.fs.files[self.path]
        n = max(0, min(len(buf), len(data) - self.pos))
        buf[:n] = data[self.pos : self.pos + n]
        self.pos += n
        return n

    def close(self):
        pass
