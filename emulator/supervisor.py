"""Start, stop, reset and power-cut emulated hubs, one OS process each.

One process per hub gives each its own module state (machine, the firmware's globals),
clock and working directory for free, and a power cut is faithful: SIGKILL at any instant,
so a write can be torn wherever the OS left it; the next start reuses the same HUB_DIR.
"""

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tty
from pathlib import Path

from emulator.hubproc import EXIT_CRASHED, ROOT

PWRON_RESET = 1
RESET_EXIT_BASE = 100


def provision(hub_dir, *, firmware=ROOT / "firmware", protocol=ROOT / "protocol", **config):
    """Make a hub directory: hub.json from config, and the app copied onto its flash as
    a technician's cable deploy would."""
    hub_dir = Path(hub_dir)
    flash = hub_dir / "flash"
    flash.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    if firmware is not None:
        shutil.copytree(firmware, flash, dirs_exist_ok=True, ignore=ignore)
    if protocol is not None:
        shutil.copytree(protocol, flash / "protocol", dirs_exist_ok=True, ignore=ignore)
    (hub_dir / "hub.json").write_text(json.dumps(config))
    return hub_dir


class Hub:
    """One emulated hub's process. Output goes to HUB_DIR/console.log (appended).

    With serial=True the hub also has a serial port: a pseudo-terminal (path in `tty`,
    also written to HUB_DIR/tty) speaking MicroPython's REPL (emulator/serialport.py).
    It is made here, not in the hub process, so it outlives resets and power cuts as a
    USB-UART bridge does; `close()` unplugs it."""

    def __init__(self, hub_dir, real_time=False, serial=False):
        self.dir = Path(hub_dir)
        self.real_time = real_time
        self.proc = None
        self.boots = 0
        self.tty = None
        self._pty = ()
        if serial:
            master, slave = os.openpty()
            tty.setraw(slave)  # the host side starts raw, as a USB serial device does
            self.tty = os.ttyname(slave)
            # Our copy of the host end stays open so the hub never sees a hang-up between
            # two tools opening the port.
            self._pty = (master, slave)
            (self.dir / "tty").write_text(self.tty + "\n")

    def start(self, reset_cause=PWRON_RESET):
        cmd = [sys.executable, "-m", "emulator.hubproc", str(self.dir)]
        cmd += ["--reset-cause", str(reset_cause)]
        if self.real_time:
            cmd.append("--real-time")
        if self._pty:
            cmd += ["--serial-fd", str(self._pty[0])]
        log = open(self.dir / "console.log", "ab")  # the child keeps its own copy
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=self._pty[:1],
        )
        log.close()
        self.boots += 1

    def send(self, op, **args):
        """Tell the hub's world something happened (see emulator.sensors.Sensors)."""
        self.proc.stdin.write((json.dumps({"op": op, "args": args}) + "\n").encode())
        self.proc.stdin.flush()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout=None):
        return self.proc.wait(timeout)

    def power_cut(self):
        """Cut the power now: nothing gets to flush. The RTC is lost; flash stays."""
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        state = self.dir / "chip-state.json"
        if state.exists():
            keep = json.loads(state.read_text())
            keep.pop("wall", None)
            state.write_text(json.dumps(keep))

    def acted(self, op):
        """time.monotonic() of each control message `op` the hub carried out, oldest
        first: the same clock as the caller's, taken in the hub process."""
        try:
            lines = (self.dir / "world.log").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [float(t) for name, t in (ln.split() for ln in lines) if name == op]

    def console(self):
        return (self.dir / "console.log").read_text(errors="replace")

    def close(self):
        """Power the hub off and unplug its serial port."""
        self.power_cut()
        for fd in self._pty:
            os.close(fd)
        self._pty = ()


class Supervisor:
    """Keeps many hubs running: restarts them after resets (with the reset cause the
    firmware will read), leaves crashed ones halted, and, with chaos on, cuts each hub's
    power at random instants (seeded) and powers it back on."""

    def __init__(self, hubs, seed=0, mean_uptime_s=None, off_s=(0.1, 1.0)):
        self.hubs = list(hubs)
        self.rng = random.Random(seed)
        self.mean_uptime_s = mean_uptime_s
        self.off_s = off_s
        self.halted = set()
        self.power_cuts = 0

    async def _run(self, hub):
        hub.start()
        while True:
            if self.mean_uptime_s is None:
                await asyncio.to_thread(hub.wait)
            else:
                uptime = self.rng.expovariate(1 / self.mean_uptime_s)
                try:
                    await asyncio.wait_for(asyncio.to_thread(hub.wait), uptime)
                except TimeoutError:
                    hub.power_cut()
                    self.power_cuts += 1
                    await asyncio.sleep(self.rng.uniform(*self.off_s))
                    hub.start(PWRON_RESET)
                    continue
            code = hub.proc.returncode
            if code is not None and code > RESET_EXIT_BASE:
                hub.start(code - RESET_EXIT_BASE)
            else:
                if code == EXIT_CRASHED:
                    self.halted.add(hub)
                return code

    async def run(self, duration_s):
        """Run every hub for duration_s seconds of real time, then cut them all."""
        tasks = [asyncio.ensure_future(self._run(h)) for h in self.hubs]
        await asyncio.wait(tasks, timeout=duration_s)
        for t in tasks:
            t.cancel()
        for h in self.hubs:
            h.power_cut()
