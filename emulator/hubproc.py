"""One emulated hub as one OS process: `python -m emulator.hubproc HUB_DIR [--reset-cause N]
[--real-time]`.

HUB_DIR holds hub.json (the chip: uid, Wi-Fi, flash size, wiring), flash/ (the hub's
filesystem: the process runs with it as working directory, and the firmware uses relative
paths as MicroPython does with its root as cwd), chip-state.json (RTC, NVS) and the OTA
app partitions (ota_0.bin, ota_1.bin, otadata.json). As
MicroPython does, it runs boot.py then main.py from the flash, after the emulated
bootloader chose the OTA partition that boots (emulator/hw/esp32.py). A reset exits with
emusim.RESET_EXIT_BASE + cause; the supervisor starts the process again. stdin is the
control channel: one JSON object per line, handed to emulator.sensors.Sensors.command.
With --serial-fd (a pty master from supervisor.Hub) the hub also has a serial port with
MicroPython's REPL (emulator/serialport.py): Ctrl-C stops the application and the hub
sits in the REPL, as it does when main.py is missing, returns or raises.
"""

import argparse
import gc
import json
import os
import runpy
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HW = str(ROOT / "emulator" / "hw")
COMPAT = str(ROOT / "emulator" / "cpython")
EXIT_CRASHED = 70  # main.py raised: a real hub would sit in the REPL


def _control(board, sensors, log_path):
    for line in sys.stdin:
        line = line.strip()
        if line:
            board.soon(_command, sensors, json.loads(line), log_path)


def _command(sensors, msg, log_path):
    sensors.command(msg)
    # When the world acted on the hub's pins, on the machine's monotonic clock (which the
    # emulator leaves real and every process shares): tests time the hub's reaction from
    # here, not from a message that a busy machine may deliver late.
    with open(log_path, "a") as f:
        f.write(f"{msg['op']} {time.monotonic():.6f}\n")


def _attach_devices(board, config):
    for addr, kind in config.get("i2c", {}).items():
        if kind == "sht3x":
            from emulator import sht3x_sim

            board.attach_i2c(int(addr, 0), sht3x_sim.SHT3x(now_ms=board.now_ms))


def _with_serial(a, hub_dir, board, flash):
    """Run boot.py (and main.py unless soft-rebooted from the raw REPL) with Ctrl-C able
    to stop them, then sit in the REPL for good."""
    import emusim

    from emulator import serialport

    repl = serialport.SerialREPL(a.serial_fd, flash)

    def reboot(raw):
        board._save_state()  # the RTC survives a soft reboot
        sys.stdout.flush()
        # Reported as a soft reset, so the emulated RTC keeps its time as a real one does.
        args = ["--serial-fd", str(a.serial_fd), "--reset-cause", str(emusim.SOFT_RESET)]
        args += ["--real-time"] * a.real_time + ["--raw-repl"] * raw
        os.chdir(ROOT)
        os.set_inheritable(a.serial_fd, True)
        os.execv(sys.executable, [sys.executable, "-m", "emulator.hubproc", hub_dir, *args])

    scripts = ("boot.py",) if a.raw_repl else ("boot.py", "main.py")
    try:
        with repl.running():
            for script in scripts:
                if os.path.exists(script):
                    runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
        if code >= emusim.RESET_EXIT_BASE:
            board.reset(code - emusim.RESET_EXIT_BASE)
        traceback.print_exc()
    except BaseException:
        traceback.print_exc()  # Ctrl-C or a crash: a real hub prints it and sits in the REPL
    repl.serve(raw=a.raw_repl, reboot=reboot)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("hub_dir")
    ap.add_argument("--reset-cause", type=int, default=1)
    ap.add_argument("--real-time", action="store_true")
    ap.add_argument("--serial-fd", type=int)
    ap.add_argument("--raw-repl", action="store_true", help="soft reboot from the raw REPL")
    a = ap.parse_args(argv)
    hub_dir = os.path.realpath(a.hub_dir)
    with open(os.path.join(hub_dir, "hub.json")) as f:
        config = json.load(f)

    sys.path[:0] = [HW, COMPAT]
    import emusim

    from emulator import clock as vclock
    from emulator.flash import Flash
    from emulator.host import HostBoard
    from emulator.sensors import Sensors

    clock = vclock.VirtualClock(not a.real_time, config.get("ticks_start_ms", 0))
    vclock.install(clock, lambda: emusim.board.wall(), lambda loop: emusim.board.set_loop(loop))
    board = emusim.board = HostBoard(clock, config, a.reset_cause, hub_dir)
    heap = config.get("heap_free", 110_000)
    gc.mem_free = lambda: heap
    gc.mem_alloc = lambda: 0
    flash = os.path.join(hub_dir, "flash")
    Flash(flash, config.get("flash_capacity", 2 * 1024 * 1024)).install()
    _attach_devices(board, config)
    sensors = Sensors(board, config.get("wiring"))
    log_path = os.path.join(hub_dir, "world.log")
    threading.Thread(target=_control, args=(board, sensors, log_path), daemon=True).start()

    # The flash comes first on the path, as the hub's root does; the repository last, only
    # for emulator modules the firmware never imports.
    os.chdir(flash)
    rest = [p for p in sys.path[2:] if p not in ("", str(ROOT), os.getcwd())]
    sys.path[:] = ["", "lib", HW, COMPAT, *rest, str(ROOT)]
    sys.argv = [""]
    if a.serial_fd is not None:
        _with_serial(a, hub_dir, board, flash)
    try:
        # The bootloader's step (which OTA partition boots; a new image's one trial boot,
        # or the rollback from it) at power on, as on the chip, not when the firmware
        # first asks for a partition.
        import esp32

        esp32.Partition(esp32.Partition.RUNNING)
        for script in ("boot.py", "main.py"):
            if os.path.exists(script):
                runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
        if code >= emusim.RESET_EXIT_BASE:
            board.reset(code - emusim.RESET_EXIT_BASE)
        raise
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_CRASHED)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
