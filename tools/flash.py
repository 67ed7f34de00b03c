"""`portineria flash`: write MicroPython onto an ESP32 (written for the ESP32-WROOM-32,
4 MB) with esptool, run as a subprocess of this Python: detect the chip, erase the flash,
write the image at 0x1000 (where the ESP32's second-stage bootloader starts), and verify
it. Long USB cables and cheap bridges drop bytes at high speed, so each baud rate in
turn is tried until one works."""

import subprocess
import sys
from pathlib import Path

from tools.deploy import DeviceError

BAUDS = (460800, 115200)
OFFSET = "0x1000"  # ESP32 (not S2/S3/C3, whose images start at 0x0)
CHIPS = ("ESP32",)


def _esptool(port, baud, *args, timeout=300):
    cmd = [sys.executable, "-m", "esptool", "--port", port, "--baud", str(baud)]
    cmd += ["--connect-attempts", "2", *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "esptool timed out"
    return r.returncode, r.stdout + r.stderr


def _reason(output):
    for line in reversed(output.strip().splitlines()):
        if "error" in line.lower() or "failed" in line.lower():
            line = line.strip().removeprefix("ERROR: ").removeprefix("A fatal error occurred: ")
            return line.rstrip(".")
    return "esptool failed"


def flash(port, image, bauds=None, erase=True, say=None):
    """Detect, erase, write, verify; returns {chip, baud}. DeviceError says what failed."""
    say = say or (lambda text: None)
    image = Path(image)
    if not image.is_file():
        raise DeviceError(
            f"{image}: no such firmware image (download ESP32_GENERIC from micropython.org)"
        )
    if image.stat().st_size < 64 * 1024 or image.read_bytes()[:1] != b"\xe9":
        raise DeviceError(f"{image} is not an ESP32 firmware image")
    if not Path(port).exists():
        raise DeviceError(f"{port}: no such serial port (is the board plugged in?)")
    last = "no board answered"
    for baud in bauds or BAUDS:
        say(f"talking to the board at {baud} baud")
        code, out = _esptool(port, baud, "chip-id", timeout=60)
        if code != 0:
            last = _reason(out or "")
            continue
        chip = next((c for c in out.split() if c.startswith("ESP32")), "unknown")
        if chip.rstrip(",") not in CHIPS:
            raise DeviceError(f"the board is a {chip}, not the ESP32 this image is for")
        steps = (["erase-flash"] if erase else []) + [
            ["write-flash", "-z", OFFSET, str(image)],
            ["verify-flash", OFFSET, str(image)],
        ]
        for step in steps:
            step = [step] if isinstance(step, str) else step
            say(step[0])
            code, out = _esptool(port, baud, *step)
            if code != 0:
                last = _reason(out or "")
                break
        else:
            return {"chip": chip.rstrip(","), "baud": baud, "image": str(image)}
    raise DeviceError(f"no ESP32 answered on {port} ({last})")
