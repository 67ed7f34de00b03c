"""Run code under the real MicroPython unix port, with the heap capped as on an ESP32.

protocol/ and firmware/ must run on MicroPython; tests prove it by running the same
code here. The repository root is on MicroPython's import path, so `import protocol`
works as it does on a hub.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
MICROPYTHON = Path(sys.executable).with_name("micropython")


class MPResult(NamedTuple):
    output: str  # stdout and stderr, interleaved as MicroPython printed them
    status: int


def run_micropython(
    code=None, path=None, heapsize="100K", paths=(), args=(), timeout=120, cwd=ROOT
):
    """Run a snippet (`code`) or a file (`path`) in `cwd` and return its output and exit
    status; `paths` go on the import path before the repository root."""
    if (code is None) == (path is None):
        raise ValueError("give either code or path")
    cmd = [str(MICROPYTHON), "-X", f"heapsize={heapsize}"]
    cmd += ["-c", code] if code is not None else [str(path)]
    cmd += [str(a) for a in args]
    # .frozen keeps the port's frozen modules (asyncio) importable beside ours.
    search = [".frozen", *map(str, paths), str(ROOT)]
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(search))
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=timeout, text=True,
    )
    return MPResult(proc.stdout, proc.returncode)
