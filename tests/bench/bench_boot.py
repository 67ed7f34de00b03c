# Boot time with a ROMFS partition, before and after the copy's record (romfs.key): the
# hub's real code (protocol/ and firmware/hub as .mpy) on a flash directory, booted by
# boot.py from REV (default: the last boot.py that hashed the code at every boot) and by
# the current one, with and without the record. Medians of RUNS boots, each after a first
# boot that wrote the partition:
# - MicroPython unix port: boot.py's own time (ticks_us around it), and a process's time
#   from its start to the app's first line (an import from /rom);
# - CPython: boot.py exec'd in-process, with the partition lent and a stand-in vfs
#   (the emulator proper has no ROMFS: its boot.py returns before any of this).
# Run: PYTHONPATH=. .venv/bin/python tests/bench/bench_boot.py [RUNS] [REV]

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

from tests.mpy import MICROPYTHON, ROOT, hub_lib
from tools import romfs

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def old_rev():
    if len(sys.argv) > 2:
        return sys.argv[2]
    first = subprocess.run(
        ["git", "log", "--format=%H", "-S_RECORD", "--", "firmware/boot.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    return first + "~1"


def boot_of(rev):
    return subprocess.run(
        ["git", "show", rev + ":firmware/boot.py"], cwd=ROOT, capture_output=True, check=True
    ).stdout


def mp_boot(flash, part, boot, save=False):
    """(boot.py µs, script µs, wall seconds to the app's first line)."""
    cmd = [str(MICROPYTHON), "-X", "heapsize=400K", str(ROOT / "tests/bench/boot_time_mp.py")]
    cmd += [str(part), str(boot)] + (["save"] if save else [])
    env = {"MICROPYPATH": ".frozen:" + str(ROOT / "tests/mp")}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=flash, env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    while line.startswith("boot:"):  # boot.py's own lines come before the app's
        line = proc.stdout.readline()
    wall = time.perf_counter() - t
    proc.communicate()
    parts = line.split()
    assert proc.returncode == 0 and parts[:1] == ["app"], line
    return int(parts[2]), int(parts[3]), wall


class _Vfs(types.ModuleType):
    def umount(self, path):
        raise OSError(22)

    def mount(self, obj, path):
        pass

    def VfsRom(self, mem):  # noqa: N802 (MicroPython's name)
        return mem


def cpython_boot(flash, part, code):
    sys.path.insert(0, str(ROOT / "tests/mp"))
    import rompart

    sys.modules["vfs"] = _Vfs("vfs")
    scope = {"__name__": "__main__", "rom_ioctl": rompart.lend(part)}
    t = time.perf_counter()
    exec(code, scope)
    took = time.perf_counter() - t
    sys.path[:] = [p for p in sys.path if p != "/rom"]
    return took


def main():
    rev = old_rev()
    lib = hub_lib()
    work = Path(tempfile.mkdtemp())
    flash = work / "flash"
    for pkg in ("hub", "protocol"):
        shutil.copytree(lib / pkg, flash / pkg)
    files = romfs.slot_files(flash)
    size = -(-len(romfs.partition(files)) // 4096) * 4096 + 4096
    code_bytes = sum(map(len, files.values()))
    print(f"code: {len(files)} files, {code_bytes} bytes; partition {size} bytes; {RUNS} runs")
    print(f"before: boot.py of {rev}")
    variants = (("before", boot_of(rev), False), ("after", None, True), ("after", None, False))
    record = flash / romfs.RECORD
    for name, text, keep in variants:
        boot = work / f"boot-{name}.py"
        if text is None:
            shutil.copy(ROOT / "firmware/boot.py", boot)
        else:
            boot.write_bytes(text)
        label = name + (", with record" if keep else ", no record" if name == "after" else "")
        part = work / "part.bin"
        part.write_bytes(b"\xff" * size)
        record.unlink(missing_ok=True)
        mp_boot(flash, part, boot, save=True)  # writes the partition
        mp = []
        for _ in range(RUNS):
            if not keep:
                record.unlink(missing_ok=True)
            mp.append(mp_boot(flash, part, boot))
        cp = []
        mem = bytearray(part.read_bytes())
        for _ in range(RUNS):
            if not keep:
                record.unlink(missing_ok=True)
            here = os.getcwd()
            os.chdir(flash)
            try:
                cp.append(cpython_boot(flash, mem, compile(boot.read_text(), str(boot), "exec")))
            finally:
                os.chdir(here)
        med = [statistics.median(x[i] for x in mp) for i in range(3)]
        print(
            f"{label:20} MicroPython: boot.py {med[0] / 1000:6.2f} ms, start to app's first "
            f"line {med[1] / 1000:6.2f} ms in-process, {med[2] * 1000:6.1f} ms wall; "
            f"CPython: boot.py {statistics.median(cp) * 1000:6.2f} ms"
        )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
