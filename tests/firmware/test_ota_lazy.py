"""The OTA code stays off the hub's heap until it is needed (tests/mp/ota_lazy.py), on
MicroPython with the hub's .mpy build, in a fresh interpreter."""

from tests.mpy import ROOT, run_micropython


def test_ota_modules_load_only_when_needed(tmp_path):
    out, status = run_micropython(
        path=ROOT / "tests" / "mp" / "ota_lazy.py",
        heapsize="256K",  # hub.hal's stand-ins (emulator/hw) compile from source here
        cwd=tmp_path,
        paths=[ROOT / "emulator" / "hw"],
    )
    assert status == 0 and out.strip().endswith("OK"), out
