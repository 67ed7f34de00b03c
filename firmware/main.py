# Runs after boot.py: the hub application, and nothing may stop the hub for good. Any
# exception the app lets out is written to a small log file on flash, and after a pause
# (so a hub failing at start-up does not wear the flash or flood the fleet) the hub
# resets and tries again. The identity is never part of what is logged. While
# `deploy.pending` exists (boot.py said why) the app does not start: the hub waits in the
# REPL for `portineria deploy` to finish.
import sys
import time

_LOG = "crash.log"
_LOG_MAX = 4096
_PAUSE_S = 10


def _trace(e, f):
    if hasattr(sys, "print_exception"):
        sys.print_exception(e, f)  # pyright: ignore[reportAttributeAccessIssue, reportArgumentType]
    else:  # CPython (the emulator)
        import traceback

        traceback.print_exception(e, file=f)


def _log(e):
    import os

    _trace(e, sys.stdout)
    try:
        if os.stat(_LOG)[6] > _LOG_MAX:
            os.remove(_LOG)  # the newest crash matters most; the flash must not fill
    except OSError:
        pass
    try:
        with open(_LOG, "a") as f:
            f.write(str(time.time()) + "\n")
            _trace(e, f)
    except OSError:
        pass


def main():
    import os

    try:
        os.stat("deploy.pending")
        return
    except OSError:
        pass
    try:
        from hub import app

        app.run()
    except Exception as e:
        _log(e)
    time.sleep(_PAUSE_S)
    import machine

    machine.reset()


main()
