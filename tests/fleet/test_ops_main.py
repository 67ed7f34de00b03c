"""`python -m fleet --demo` starts HTTP and CoAP in one process on a fresh SQLite file,
prints the demo logins, answers /healthz, and stops cleanly on SIGINT; a port already
taken is one sentence on stderr and a failed exit, not a traceback or uvicorn's log line."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from emulator.ports import free_udp_port

ROOT = Path(__file__).resolve().parents[2]


def free_tcp_port():
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


@pytest.mark.parametrize("taken", ["FLEET_HTTP_PORT", "FLEET_COAP_PORT"])
def test_a_taken_port_is_one_sentence_and_a_failed_exit(tmp_path, taken):
    kind = socket.SOCK_STREAM if taken == "FLEET_HTTP_PORT" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as squatter:
        squatter.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            squatter.listen()
        port = squatter.getsockname()[1]
        env = dict(os.environ)
        env.update(
            FLEET_DATABASE_URL=f"sqlite:///{tmp_path}/fleet.db",
            FLEET_HTTP_PORT=str(free_tcp_port()),
            FLEET_COAP_PORT=str(free_udp_port()),
        )
        env[taken] = str(port)
        proc = subprocess.run(
            [sys.executable, "-m", "fleet"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    # The log stays JSON lines; the one line that is not is the sentence, and it is last.
    lines = proc.stderr.splitlines()
    assert lines[-1] == f"fleet: port {port} is in use ({taken})"
    assert all(json.loads(line) for line in lines[:-1])
    assert proc.stdout == ""
