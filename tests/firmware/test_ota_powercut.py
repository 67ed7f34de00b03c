"""1,000 randomised power cuts through an update, in-process: hub/ota.py and boot.py on a
flash directory whose every read, write and rename can be the last (a torn write keeps
its first bytes). After each cut the hub boots again (boot.py), the running copy is
checked whole, and the update goes on. No hub may ever boot a copy that is neither the
old nor the new application, and every hub must end on one of them and say which."""

import builtins
import hashlib
import os
import random
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

import pytest

from tests.mpy import ROOT

sys.path.insert(0, str(ROOT / "firmware"))

from hub import ota, ota_files  # noqa: E402

from tests.firmware.test_ota import BOOT, Reset, new_key, small_app, stand_in_hal  # noqa: E402, F401
from tests.mp.ota_world import FakeApp, FakeUplink, run_offer  # noqa: E402
from tools import release  # noqa: E402

TRIALS = 1000
SEED = 20261129


class PowerCut(BaseException):
    """Not an Exception: nothing on the hub may catch the power going."""


class Faults:
    """Cost accounting over the flash (relative paths only): bytes read and written, one
    unit per create, rename, remove, mkdir, rmdir. At `budget` units the power fails."""

    def __init__(self):
        self.budget = -1
        self.used = 0

    def spend(self, n):
        if self.budget < 0:
            self.used += n
            return n
        if n < self.budget:
            self.budget -= n
            self.used += n
            return n
        done, self.budget = self.budget, 0
        raise PowerCut(done)


def _ours(path):
    return isinstance(path, str) and not path.startswith("/")


class _File:
    def __init__(self, f, faults):
        self._f = f
        self._faults = faults

    def write(self, data):
        if not isinstance(data, str):
            data = bytes(data)
        try:
            self._faults.spend(len(data))
        except PowerCut as cut:
            self._f.write(data[: cut.args[0]])  # the torn write: its first bytes landed
            self._f.flush()
            raise
        return self._f.write(data)

    def read(self, n=-1):
        data = self._f.read(n)
        self._faults.spend(len(data))
        return data

    def readinto(self, buf):
        n = self._f.readinto(buf)
        self._faults.spend(n)
        return n

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.fixture
def faulty_flash(monkeypatch):
    faults = Faults()
    real_open = builtins.open

    def open_(path, mode="r", *a, **kw):
        if not _ours(path):
            return real_open(path, mode, *a, **kw)
        if any(c in mode for c in "wa+"):
            faults.spend(1)
        return _File(real_open(path, mode, *a, **kw), faults)

    def op(real):
        def f(path, *a, **kw):
            if _ours(path) and not kw:  # shutil's calls carry dir_fd: not the hub's
                faults.spend(1)
            return real(path, *a, **kw)

        return f

    monkeypatch.setattr(builtins, "open", open_)
    for name in ("rename", "remove", "mkdir", "rmdir"):
        monkeypatch.setattr(os, name, op(getattr(os, name)))
    stand_in_hal(monkeypatch)
    return faults


def _phase(cut):
    names = {f.name for f in traceback.extract_tb(cut.__traceback__)}
    if "choose" in names or "confirm" in names or "__init__" in names:
        return "first boot"
    if "install" in names:  # hub/ota_install.py
        return "installation"
    if "_fetch" in names or "manifest" in names:  # hub/ota_fetch.py
        return "download"
    return "verification"


def test_thousand_power_cuts_brick_no_hub(tmp_path, small_app, faulty_flash, monkeypatch):  # noqa: F811
    key = new_key()
    cose, bundle, m = release.build(
        key, "0.2.0", 2, ota_files.hw_class(), small_app / "fw", small_app / "proto", trial=(2, 60)
    )
    etag = hashlib.sha256(bundle).digest()[:8]
    new = {p: d for p, _, d in m[release.M_FILES]}
    template = tmp_path / "template"
    shutil.copytree(small_app / "fw", template)
    shutil.copytree(small_app / "proto", template / "protocol")
    (template / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
    old = {p: hashlib.sha256((template / p).read_bytes()).digest() for p in new}
    old["hub/version.py"] = hashlib.sha256((template / "hub/version.py").read_bytes()).digest()
    boot_code = compile(BOOT.read_text(), str(BOOT), "exec")

    def copy_in(slot):
        """Which application the slot holds whole: "old", "new", or None (bricked).
        Read through pathlib: the check is not the hub's work, the power cannot fail in it."""
        for name, files in (("old", old), ("new", new)):
            ok = True
            for p, digest in files.items():
                path = os.path.join(slot, p)
                ok = ok and os.path.exists(path)
                ok = ok and hashlib.sha256(Path(path).read_bytes()).digest() == digest
            if ok:
                return name
        return None

    def boot():
        scope = {}
        exec(boot_code, scope)
        return scope["_app"] or "."

    rng = random.Random(SEED)
    installed = total = 0  # units of work up to the reset after installing, and in all

    def cut_point():
        # Cuts fall uniformly over all the work, and one in four within the first boot
        # (little work by bytes, but where boot.py and the confirmation decide).
        if rng.random() < 0.25:
            return installed + rng.randrange(total - installed)
        return rng.randrange(total)

    outcomes = Counter()
    phases = Counter()
    # One clean update first: how much work there is to cut into.
    monkeypatch.chdir(template)
    # Each hub's flash is copied in and out a thousand times: in memory where there is a
    # tmpfs, which halves the run time.
    shm = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(dir=shm if shm.is_dir() else tmp_path)) / "work"
    for trial in range(TRIALS + 1):
        shutil.copytree(template, work)
        monkeypatch.chdir(work)
        faulty_flash.used = 0
        cuts = 0 if trial == 0 else rng.choice((1, 1, 2, 3))
        faulty_flash.budget = cut_point() if cuts else -1
        running = None
        for _ in range(40):
            try:
                running = boot()
                assert copy_in(running) is not None, f"trial {trial}: {running} is bricked"
                up = ota.Updater(FakeApp(FakeUplink(cose, bundle, etag)))
                if up.trial:
                    up.confirm()  # the copy reached the fleet and read its sensors
                run_offer(up, 2)
                if up.report and up.report[0] in ("updated", "rolled back"):
                    break
            except PowerCut as cut:
                phases[_phase(cut)] += 1
                cuts -= 1
                faulty_flash.budget = cut_point() if cuts > 0 else -1
            except Reset:
                installed = installed or faulty_flash.used
        faulty_flash.budget = -1
        running = boot()
        final = ota.Updater(FakeApp(None)).report
        what = copy_in(running)
        if trial == 0:
            total = faulty_flash.used
            assert what == "new" and final == ["updated", 2, "0.2.0"] and 0 < installed < total
        else:
            assert (what, final) in (
                ("new", ["updated", 2, "0.2.0"]),
                ("old", ["rolled back", 2, "0.2.0"]),
            ), f"trial {trial}: runs {running} ({what}), reports {final}"
            outcomes[what] += 1
        monkeypatch.chdir(tmp_path)
        shutil.rmtree(work)
    work.parent.rmdir()
    print(f"\n{TRIALS} hubs, {sum(phases.values())} power cuts: {dict(phases)}; ends: {outcomes}")
    assert sum(outcomes.values()) == TRIALS and sum(phases.values()) >= TRIALS
    assert all(phases[p] >= 50 for p in ("download", "verification", "installation", "first boot"))
