"""The README's main commands must keep working: the demo runs the real fleet server and
emulated hubs, and a panic pressed during an outage is stored once; `python -m fleet
--demo` prints its logins only once they can be used."""

import os
import signal
import socket
import subprocess
import sys

import httpx

from emulator.ports import free_port
from tests.mpy import ROOT


def test_demo_runs_the_fleet_and_hubs_end_to_end():
    port = free_port(socket.SOCK_STREAM)
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


def test_fleet_demo_logins_work_as_soon_as_they_are_printed(tmp_path):
    """A script reads the logins and at once logs in over HTTP and pings over CoAP: no
    retry, no sleep — the logins come only when both ports listen."""
    http, coap = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    env = dict(
        os.environ,
        FLEET_DATABASE_URL=f"sqlite:///{tmp_path}/fleet.db",
        FLEET_HTTP_PORT=str(http),
        FLEET_COAP_PORT=str(coap),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "--demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        logins = {}
        while "caregiver" not in logins:
            line = proc.stdout.readline()
            assert line, "the fleet stopped before printing the logins"
            if line.startswith("  "):
                role, email, password = line.split()
                logins[role] = (email, password)
        email, password = logins["technician"]
        answer = httpx.post(
            f"http://127.0.0.1:{http}/api/login", json={"email": email, "password": password}
        )
        assert answer.status_code == 200, answer.text
        # A CoAP ping (an empty Confirmable message) is answered with a Reset (RFC 7252 §4.3).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(bytes.fromhex("40001234"), ("127.0.0.1", coap))
            assert s.recv(64) == bytes.fromhex("70001234")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0
