"""Heartbeat key 11, the MicroPython image's version (protocol/README.md): what the fleet
compares with a "micropython" release's version to call its deployment updated and to
offer it no more. An image on trial (ota.image) loads the updater at boot, so the trial
runs and ends in a reset when the new image never reaches the fleet."""

import asyncio
import sys

from tests.firmware.test_app_heartbeat import Uplink, hub, hubapp  # noqa: F401 (fixture)
from tests.mpy import ROOT, run_micropython

sys.path[:0] = [str(ROOT / "firmware")]

from hub.outbox import Outbox  # noqa: E402


def test_key_11_names_the_image_release_last_confirmed(tmp_path, monkeypatch, hubapp):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    a = hub(hubapp, Outbox(str(tmp_path / "outbox")))
    asyncio.run(a.heartbeat())
    assert 11 not in a.uplink.beats[0]  # CPython runs no MicroPython image
    (tmp_path / "ota.iver").write_text("1.25.0")
    asyncio.run(a.heartbeat())
    assert a.uplink.beats[1][11] == "1.25.0"


def test_an_image_on_trial_loads_the_updater_at_boot(tmp_path, monkeypatch, hubapp):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ota.state").write_text("app0 app1 ok")
    assert not hubapp._ota_pending()
    (tmp_path / "ota.image").write_bytes(b"\x85\x02")  # whatever it holds: hub.ota reads it
    assert hubapp._ota_pending()


def test_on_micropython(tmp_path):
    res = run_micropython(
        path=ROOT / "tests" / "mp" / "app_image_key.py",
        heapsize="200K",
        paths=(ROOT / "emulator" / "hw",),
        cwd=tmp_path,
    )
    assert res.status == 0 and res.output.rstrip().endswith("OK"), res.output
