"""The README's main command must keep working: the demo runs the real fleet server and
emulated hubs, and a panic pressed during an outage is stored once."""

import socket
import subprocess
import sys

from tests.mpy import ROOT


def test_demo_runs_the_fleet_and_hubs_end_to_end():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--once", "--port", str(port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "online and configured over OSCORE" in out
    panics = [line for line in out.splitlines() if "panic" in line and "EMERGENCY" in line]
    assert len(panics) == 1, out
    assert "caregiver@demo.portineria.org" in out
    assert "Traceback" not in proc.stderr, proc.stderr
