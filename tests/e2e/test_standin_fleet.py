"""The stand-in fleet on its own: it answers only OSCORE, and runs as a program."""

import subprocess
import sys

import aiocoap

from emulator.standin_fleet import StandinFleet
from tests.mpy import ROOT


async def test_unprotected_requests_are_refused(tmp_path):
    fleet = StandinFleet(tmp_path / "fleet")
    fleet.enrol("hub-1")
    port = await fleet.start()
    client = await aiocoap.Context.create_client_context()
    try:
        for code, path in ((aiocoap.POST, "t?s=1"), (aiocoap.POST, "hb"), (aiocoap.GET, "c")):
            req = aiocoap.Message(code=code, uri=f"coap://127.0.0.1:{port}/{path}", payload=b"")
            resp = await client.request(req).response
            assert resp.code == aiocoap.UNAUTHORIZED, path
        assert fleet.records == {} and fleet.heartbeats == []
    finally:
        await client.shutdown()
        await fleet.stop()


def test_runs_as_a_program_and_enrols(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    cmd = [sys.executable, "-m", "emulator.standin_fleet", str(tmp_path / "state"), "--port", "0"]
    proc = subprocess.Popen(
        [*cmd, "--enrol", f"hub-9={flash}"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("stand-in fleet on 127.0.0.1:") and "hub-9" in line
        assert (flash / "identity.cbor").stat().st_size > 40
    finally:
        proc.kill()
        proc.wait()
    again = subprocess.run(
        [*cmd, "--enrol", f"hub-9={flash}"], cwd=ROOT, capture_output=True, text=True
    )
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f"standin_fleet: hub hub-9 is already enrolled in {tmp_path / 'state'}"
    )
