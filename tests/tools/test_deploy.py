"""`portineria deploy` to an emulated hub over its serial port, with the real mpremote
underneath: the hub boots what was deployed and reaches the (stand-in) fleet; a deploy
killed half-way is finished by the next one."""

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator.standin_fleet import StandinFleet, write_identity
from emulator.supervisor import Hub, Supervisor, provision

ROOT = Path(__file__).resolve().parents[2]
HUB = "hub-d1"


def portineria(*argv):
    return subprocess.Popen(
        [sys.executable, "-m", "tools", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def finish(proc, timeout=60):
    out, err = await asyncio.to_thread(proc.communicate, timeout=timeout)
    return proc.returncode, out, err


class Bench:
    """A fresh hub (MicroPython only, empty flash) on a serial port, kept running by a
    supervisor (resets restart it), and a stand-in fleet that knows its identity."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.fleet = StandinFleet(tmp_path / "fleet")

    async def start(self):
        port = await self.fleet.start()
        ident = self.fleet.enrol(HUB, port=port, ack=100)
        self.fleet.set_config(HUB, [], hb=2, rd=300)
        self.identity = write_identity(self.tmp, ident)
        wlan = {"ssid": "portineria", "key": "", "assoc_ms": 100}
        self.hub = Hub(
            provision(self.tmp / "hub", firmware=None, protocol=None, wlan=wlan),
            real_time=True,
            serial=True,
        )
        self.task = asyncio.ensure_future(Supervisor([self.hub]).run(300))
        await asyncio.sleep(0.5)
        return self

    def power_cycle(self):
        self.task.cancel()
        self.hub.power_cut()
        self.task = asyncio.ensure_future(Supervisor([self.hub]).run(300))

    async def stop(self):
        self.task.cancel()
        self.hub.close()
        await self.fleet.stop()

    @property
    def flash(self):
        return self.hub.dir / "flash"

    async def heartbeat(self, timeout=20):
        self.fleet.heartbeats.clear()
        ok = await self.fleet.wait_for(lambda: self.fleet.heartbeats, timeout)
        assert ok, "no heartbeat; console:\n" + self.hub.console()[-3000:]


@pytest.fixture
async def bench(tmp_path):
    b = await Bench(tmp_path).start()
    yield b
    await b.stop()


async def test_deploy_then_the_hub_boots_the_app_and_reaches_the_fleet(bench):
    # A compiled copy left from before would shadow nothing here, but must not linger.
    (bench.flash / "hub").mkdir()
    (bench.flash / "hub" / "app.mpy").write_bytes(b"M\x06")
    proc = portineria(
        "--json", "deploy", "--port", bench.hub.tty, "--identity", str(bench.identity)
    )
    code, out, err = await finish(proc)
    assert code == 0, err
    report = json.loads(out)
    assert report["implementation"] == "cpython" and report["repaired"] is False
    assert report["sent"] == report["files"] > 30
    assert report["removed"] == ["hub/app.mpy"] and not (bench.flash / "hub/app.mpy").exists()
    manifest = json.loads((bench.flash / "deploy.json").read_text())
    for path, digest in manifest["files"].items():
        assert hashlib.sha256((bench.flash / path).read_bytes()).hexdigest() == digest
    assert not list(bench.flash.rglob("*.new")) and not (bench.flash / "deploy.pending").exists()
    await bench.heartbeat()

    # Again: nothing to send, the hub reset and back online.
    code, out, err = await finish(portineria("--json", "deploy", "--port", bench.hub.tty))
    assert code == 0, err
    assert json.loads(out)["sent"] == 0
    await bench.heartbeat()


async def test_a_deploy_killed_half_way_is_finished_by_the_next(bench):
    proc = portineria("deploy", "--port", bench.hub.tty, "--identity", str(bench.identity))
    end = time.monotonic() + 60
    while len(list(bench.flash.rglob("*.new"))) < 10:
        assert time.monotonic() < end and proc.poll() is None, proc.communicate()
        await asyncio.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (bench.flash / "deploy.pending").exists() and not (bench.flash / "deploy.json").exists()

    # The hub, reset in between (as a technician might unplug it), boots what it has.
    bench.power_cycle()
    await asyncio.sleep(1)
    # What the technician does: the same command again (here even without --identity, which
    # went first and is on the hub, staged).
    code, out, err = await finish(portineria("deploy", "--port", bench.hub.tty))
    assert code == 0, err
    assert "interrupted" in err and "all hashes match" in out
    assert not (bench.flash / "deploy.pending").exists()
    await bench.heartbeat()
