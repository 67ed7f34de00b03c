# Boots for bench_boot.py, on MicroPython: argv[1] the partition file, argv[2] the boot.py
# to run, argv[3] how many boots in this process (boot.py unmounts /rom and mounts it
# again, as at a soft reset), argv[4] "fresh" to remove the copy's record before each,
# "save" to write the partition back, or "-". After the first
# boot prints the app's first line; then, per boot, the microseconds of boot.py and of
# boot.py with the app's first import from /rom (the partition's loading from a file,
# which a hub maps instead, is not counted).
import gc
import os
import sys
import time

import rompart

with open(sys.argv[1], "rb") as f:
    _part = bytearray(f.read())
_code = open(sys.argv[2]).read()
_times = []
for _ in range(int(sys.argv[3])):
    if sys.argv[4] == "fresh":
        try:
            os.remove("romfs.key")
        except OSError:
            pass
    _g = {"__name__": "__main__", "rom_ioctl": rompart.lend(_part)}
    sys.modules.pop("hub.version", None)
    sys.modules.pop("hub", None)
    gc.collect()  # a hub boots with a fresh heap
    _t1 = time.ticks_us()
    exec(_code, _g)
    _t2 = time.ticks_us()
    from hub import version

    _times.append((time.ticks_diff(_t2, _t1), time.ticks_diff(time.ticks_us(), _t1)))
    if len(_times) == 1:
        print("app", version.VERSION)
for _t in _times:
    print("boot", _t[0], _t[1])
if sys.argv[4] == "save":
    with open(sys.argv[1], "wb") as f:
        f.write(_part)
