"""`portineria doctor` and `console` against emulated hubs: a healthy hub is all green; a
hub with a weak signal, no fleet, an unset clock and little memory gets red lines that say
what to do; the console shows the app's log after a restart."""

import json
import subprocess
import sys

import pytest

from emulator.ports import free_udp_port
from emulator.standin_fleet import write_identity
from emulator.supervisor import Hub, provision
from tests.tools.test_deploy import Bench, finish, portineria
from tools import doctor


@pytest.fixture
async def bench(tmp_path):
    b = await Bench(tmp_path).start()
    yield b
    await b.stop()


def by_name(checks):
    return {c["name"]: c for c in checks}


async def test_a_healthy_hub_is_all_green_and_goes_back_to_work(bench):
    code, _, err = await finish(
        portineria("deploy", "--port", bench.hub.tty, "--identity", str(bench.identity))
    )
    assert code == 0, err
    await bench.heartbeat()
    code, out, err = await finish(portineria("--json", "doctor", "--port", bench.hub.tty))
    checks = by_name(json.loads(out))
    assert code == 0, (out, err)
    assert set(checks) == {
        "Wi-Fi signal",
        "fleet reachable",
        "clock",
        "sensors answering",
        "free heap",
        "queue depth",
        "flash wear",
    }
    assert all(c["ok"] and c["advice"] is None for c in checks.values())
    assert checks["Wi-Fi signal"]["value"] == "-60 dBm"
    await bench.heartbeat()  # doctor soft-rebooted the hub into its app

    # console: a restart shows the app's boot line on the serial port
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools",
            "console",
            "--port",
            bench.hub.tty,
            "--restart",
            "--seconds",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Portineria 0.1.0, hub hub-d1" in proc.stdout


def test_an_unhealthy_hub_gets_red_lines_with_advice(tmp_path):
    hub_dir = provision(
        tmp_path / "hub",
        wlan={"ssid": "portineria", "key": "", "assoc_ms": 100, "rssi": -88},
        heap_free=20_000,
    )
    fields = {
        "v": 1,
        "hub": "hub-sick",
        "sid": b"\x01",
        "rid": b"",
        "ms": bytes(16),
        "salt": bytes(8),
        "host": "127.0.0.1",
        "port": free_udp_port(),
        "ssid": "portineria",
        "wkey": "",
    }
    write_identity(hub_dir / "flash", fields)
    hub = Hub(hub_dir, serial=True)
    hub.start()
    try:
        checks = by_name(doctor.examine(hub.tty))
    finally:
        hub.close()
    red = {n for n, c in checks.items() if not c["ok"]}
    assert red == {"Wi-Fi signal", "fleet reachable", "clock", "free heap"}
    assert checks["Wi-Fi signal"]["value"] == "-88 dBm"
    assert "access point" in checks["Wi-Fi signal"]["advice"]
    assert "CoAP port" in checks["fleet reachable"]["advice"]
    assert checks["free heap"]["value"] == "19 KB"


def test_doctor_cli_exits_2_and_prints_the_checklist(tmp_path):
    hub_dir = provision(tmp_path / "hub", firmware=None, protocol=None)
    hub = Hub(hub_dir, serial=True)
    hub.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tools", "doctor", "--port", hub.tty],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        hub.close()
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("portineria: no Portineria application on the hub")
    assert proc.stderr.count("\n") == 1
