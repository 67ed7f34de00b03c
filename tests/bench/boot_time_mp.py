# One boot for bench_boot.py, on MicroPython: argv[1] the partition file, argv[2] the
# boot.py to run, argv[3] "save" to write the partition back. Prints the app's first line
# with boot.py's own microseconds and those since this script started.
import sys
import time

_t0 = time.ticks_us()
import rompart  # noqa: E402

with open(sys.argv[1], "rb") as f:
    _part = bytearray(f.read())
_g = {"__name__": "__main__", "rom_ioctl": rompart.lend(_part)}
_code = open(sys.argv[2]).read()
_t1 = time.ticks_us()
exec(_code, _g)
_t2 = time.ticks_us()
from hub import version  # noqa: E402

print("app", version.VERSION, time.ticks_diff(_t2, _t1), time.ticks_diff(time.ticks_us(), _t0))
if sys.argv[3:] == ["save"]:
    with open(sys.argv[1], "wb") as f:
        f.write(_part)
