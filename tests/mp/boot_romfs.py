# boot.py with a ROMFS partition lent as vfs.rom_ioctl would give it: argv[1] is a file
# holding the partition (read into a buffer, written back after boot.py). Without argv[1]
# there is no partition. Prints where hub.app came from and its version.
import sys

_path = sys.argv[1] if len(sys.argv) > 1 else None
_scope = {"__name__": "__main__"}
if _path:
    with open(_path, "rb") as f:
        _part = bytearray(f.read())

    def rom_ioctl(op, *args):
        if op == 2:
            return memoryview(_part)
        if op == 3:
            for i in range(args[1]):
                _part[i] = 0xFF
            return 4096
        if op == 4:
            _part[args[1] : args[1] + len(args[2])] = args[2]
        return 0

    _scope["rom_ioctl"] = rom_ioctl
sys.path[:] = [".frozen"]  # the flash root (cwd) comes from boot.py alone, as on a hub
sys.path.append("")
exec(open("boot.py").read(), _scope)
from hub import app  # noqa: E402

print("module", app.__file__, app.VERSION)
if _path:
    with open(_path, "wb") as f:
        f.write(_part)
