"""The README's newcomer path, command for command, as separate processes: the fleet
(`python -m fleet --demo`), an emulated hub on a serial port (`portineria emulate`), a
technician's token, `provision --port`, the volunteer's `claim`, `deploy`; then the
technician's web page lists the hub as online."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from emulator.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def portineria(env, *argv, password=None):
    if password is not None:
        env = dict(env, PORTINERIA_PASSWORD=password)
    proc = subprocess.run(
        [sys.executable, "-m", "tools", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def wait_until(check, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no {what} within {timeout} s")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_newcomer_provisions_deploys_and_sees_the_hub_online(tmp_path):
    http = free_port(socket.SOCK_STREAM)
    url = f"http://127.0.0.1:{http}"
    env = dict(
        os.environ,
        FLEET_DATABASE_URL=f"sqlite:///{tmp_path}/fleet.db",
        FLEET_HTTP_PORT=str(http),
        FLEET_COAP_PORT=str(free_port(socket.SOCK_DGRAM)),
        FLEET_PUBLIC_URL=url,
        PORTINERIA_SERVER=url,
    )
    env.pop("PORTINERIA_TOKEN", None)
    fleet_out = tmp_path / "fleet.out"
    with open(fleet_out, "w") as out, open(tmp_path / "fleet.err", "w") as err:
        fleet = subprocess.Popen(
            [sys.executable, "-m", "fleet", "--demo"], cwd=ROOT, env=env, stdout=out, stderr=err
        )
    hub_dir = tmp_path / "hub-try"
    emulated = subprocess.Popen(
        [sys.executable, "-m", "tools", "emulate", str(hub_dir)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Printed once the fleet listens: usable at once, as the README has it.
        logins = wait_until(
            lambda: dict(re.findall(r"^\s+\w+\s+(\S+@\S+)\s+(\S+)$", fleet_out.read_text(), re.M))
            if "caregiver" in fleet_out.read_text() else None,
            60, "demo logins",
        )  # fmt: skip
        tech, volunteer = "tech@demo.portineria.org", "volunteer@demo.portineria.org"
        tty = wait_until(lambda: (hub_dir / "tty").exists() and (hub_dir / "tty").read_text(),
                         20, "serial port").strip()  # fmt: skip

        # What the README has the newcomer type.
        token = portineria(env, "token", "--email", tech, password=logins[tech]).strip()
        as_tech = dict(env, PORTINERIA_TOKEN=token)
        labels = tmp_path / "labels"
        made = portineria(
            as_tech, "provision", "--port", tty, "--ssid", "portineria",
            "--hardware", "cpython-linux", "--label", str(labels),
        )  # fmt: skip
        hub_id, code = re.search(r"hub (hub-\w+).*claim code: (\S+)", made, re.S).groups()
        assert (labels / f"{hub_id}-label.pdf").exists()
        token = portineria(env, "token", "--email", volunteer, password=logins[volunteer]).strip()
        assert "claimed" in portineria(dict(env, PORTINERIA_TOKEN=token), "claim", code)
        assert "all hashes match" in portineria(as_tech, "deploy", "--port", tty)

        # The technician's fleet page, logged in as in a browser.
        with httpx.Client(base_url=url, cookies={"portineria_lang": "en"}) as web:
            web.post("/api/login", json={"email": tech, "password": logins[tech]})

            def row():
                page = web.get("/fleet").text
                found = re.search(r"<tr data-hub.*?" + hub_id + r".*?</tr>", page, re.S)
                return found and "online" in found.group(0) and found.group(0)

            assert "h-ok" in wait_until(row, 60, "online hub on /fleet")
    finally:
        stop(emulated)
        stop(fleet)
