# boot.py with a ROMFS partition lent as vfs.rom_ioctl would give it: argv[1] is a file
# holding the partition (read into a buffer, written back after boot.py), argv[2] if
# given the erase or write in which the power fails (tests/mp/rompart.py). Without argv[1]
# there is no partition. Prints each code file boot.py opened ("read PATH") and where
# hub.app came from and its version.
import sys

import rompart

_path = sys.argv[1] if len(sys.argv) > 1 else None


def _open(path, mode="r"):
    if path.endswith(".mpy") or path.endswith(".py"):
        print("read", path)
    return open(path, mode)


_scope = {"__name__": "__main__", "open": _open}
if _path:
    with open(_path, "rb") as f:
        _part = bytearray(f.read())
    _scope["rom_ioctl"] = rompart.lend(_part, int(sys.argv[2]) if len(sys.argv) > 2 else -1)
sys.path[:] = [".frozen"]  # the flash root (cwd) comes from boot.py alone, as on a hub
sys.path.append("")
exec(open("boot.py").read(), _scope)
from hub import app  # noqa: E402

print("module", app.__file__, app.VERSION)
if _path:
    with open(_path, "wb") as f:
        f.write(_part)
