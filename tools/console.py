"""`portineria console`: follow a hub's log live from its serial port (what the app prints:
boot lines, sensor events, errors). --restart soft-reboots the hub into its application
first (Ctrl-C, Ctrl-B, Ctrl-D: stop whatever runs, leave the raw REPL, reboot), which is
also how a hub left in the REPL by another tool gets back to work."""

import json
import sys
import time

from tools.deploy import DeviceError


def follow(port, seconds=None, restart=False, as_json=False, out=None):
    import serial

    out = out or sys.stdout
    try:
        link = serial.Serial(port, 115200, timeout=0.2)
    except (serial.SerialException, OSError):
        raise DeviceError(f"cannot open {port}: is the hub plugged in and free?") from None
    end = None if seconds is None else time.monotonic() + seconds
    line = b""
    try:
        link.reset_input_buffer()  # what the port held before we came is old news
        if restart:
            link.write(b"\r\x03\x03\x02\x04")
        while end is None or time.monotonic() < end:
            line += link.read(256).replace(b"\r", b"")
            while b"\n" in line:
                one, line = line.split(b"\n", 1)
                _emit(one, as_json, out)
    except KeyboardInterrupt:
        pass
    except (serial.SerialException, OSError) as e:
        raise DeviceError(f"the serial link failed: {e}") from None
    finally:
        link.close()
    if line:
        _emit(line, as_json, out)


def _emit(raw, as_json, out):
    text = raw.decode("utf-8", "replace")
    if as_json:
        out.write(json.dumps({"line": text}) + "\n")
    else:
        out.write(text + "\n")
    out.flush()
