"""`python -m fleet --demo` starts HTTP and CoAP in one process on a fresh SQLite file,
prints the demo logins, answers /healthz, and stops cleanly on SIGINT."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from emulator.standin_fleet import free_udp_port

ROOT = Path(__file__).resolve().parents[2]


def free_tcp_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_fleet_demo(tmp_path):
    http = free_tcp_port()
    env = dict(os.environ)
    env.update(
        FLEET_DATABASE_URL=f"sqlite:///{tmp_path}/fleet.db",
        FLEET_HTTP_PORT=str(http),
        FLEET_COAP_PORT=str(free_udp_port()),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleet", "--demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, health = time.monotonic() + 30, None
        while time.monotonic() < deadline and health is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=1) as r:
                    health = json.load(r)
            except OSError:
                time.sleep(0.2)
        assert health == {"status": "ok", "database": "ok"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    logins = [line.split() for line in out.splitlines()[1:]]
    assert [row[0] for row in logins] == ["admin", "technician", "volunteer", "caregiver"]
    # Every log line is JSON, and no demo password appears in the logs.
    lines = [json.loads(line) for line in err.splitlines()]
    assert lines and all(row[2] not in err for row in logins)
