# Runs first on every boot: chooses which installed copy of the application to run.
#
# An update installs the new application beside the running one (directories app0/ and
# app1/) and then writes `ota.state` as "<new> <old> <tries>": the new copy gets a
# few trial boots. The application confirms itself, once it has proved healthy, by
# writing "<new> <old> ok". A copy that used all its tries without confirming is
# abandoned: the old copy becomes active again and `ota.rollback` tells the app to
# report it. With no state file the application lives at the filesystem root (a hub
# deployed by cable). This file must never raise: a broken boot.py bricks the hub.
import sys

_STATE = "ota.state"
_ROLLBACK = "ota.rollback"


def _read_state():
    try:
        with open(_STATE) as f:
            active, previous, tries = f.read().split()
        return active, previous, tries
    except (OSError, ValueError):
        return None


def _write(path, text):
    # Write aside and rename, so a power cut leaves the old or the new state, never half.
    import os

    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def choose():
    """Return the directory of the application copy to run ("" for the root)."""
    state = _read_state()
    if state is None:
        return ""
    active, previous, tries = state
    if tries == "ok":
        return active
    try:
        left = int(tries)
    except ValueError:
        left = 0
    if left <= 0:
        _write(_STATE, previous + " " + active + " ok")
        _write(_ROLLBACK, active)
        return previous
    _write(_STATE, active + " " + previous + " " + str(left - 1))
    return active


try:
    _app = choose()
except OSError:
    _app = ""  # an unwritable flash must not stop the hub from running what it has
if _app:
    sys.path.insert(0, _app)
