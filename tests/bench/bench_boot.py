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


def mp_boot(flash, part, boot, repeat=1, how="-"):
    """([(boot.py µs, to the app's first line µs)] per boot, seconds from the process's
    start to the app's first line)."""
    cmd = [str(MICROPYTHON), "-X", "heapsize=400K", str(ROOT / "tests/bench/boot_time_mp.py")]
    cmd += [str(part), str(boot), str(repeat), how]
    env = {"MICROPYPATH": ".frozen:" + str(ROOT / "tests/mp")}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=flash, env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    while line.startswith("boot:"):  # boot.py's own lines come before the app's
        line = proc.stdout.readline()
    wall = time.perf_counter() - t
    out = proc.communicate()[0].split("\n")
    assert proc.returncode == 0 and line.startswith("app"), line
    return [tuple(map(int, ln.split()[1:])) for ln in out if ln.startswith("boot ")], wall


class _Vfs(types.ModuleType):
    def umount(self, path):
        raise OSError(22)

    def mount(self, obj, path):
        pass

    def VfsRom(self, mem):  # noqa: N802 (MicroPython's name)
        return mem


def cpython_boot(part, code):
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
    runs = []
    for i, (name, text, keep) in enumerate(variants):
        boot = work / f"boot-{i}.py"
        if text is None:
            shutil.copy(ROOT / "firmware/boot.py", boot)
        else:
            boot.write_bytes(text)
        part = work / f"part-{i}.bin"
        part.write_bytes(b"\xff" * size)
        mp_boot(flash, part, boot, how="save")  # writes the partition (and the record)
        label = name + (", with record" if keep else ", no record" if name == "after" else "")
        runs.append((label, boot, part, keep, [], []))
    # Round robin, so that the load of the machine falls alike on every variant.
    for _ in range(RUNS):
        for _, boot, part, keep, mp, cp in runs:
            mp.append(mp_boot(flash, part, boot, 5, "-" if keep else "fresh"))
            if not keep:
                record.unlink(missing_ok=True)
            here = os.getcwd()
            os.chdir(flash)
            try:
                mem = bytearray(part.read_bytes())
                cp.append(cpython_boot(mem, compile(boot.read_text(), str(boot), "exec")))
            finally:
                os.chdir(here)
    for label, _, _, _, mp, cp in runs:
        boots = [b for each, _ in mp for b in each]
        first = statistics.median(b[1] for b in boots)
        print(
            f"{label:20} MicroPython: boot.py {statistics.median(b[0] for b in boots) / 1000:6.2f}"
            f" ms (min {min(b[0] for b in boots) / 1000:5.2f}), to the app's first line "
            f"{first / 1000:6.2f} ms, process start to it "
            f"{statistics.median(w for _, w in mp) * 1000:6.1f} ms; "
            f"CPython: boot.py {statistics.median(cp) * 1000:6.2f} ms (min {min(cp) * 1000:5.2f})"
        )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
