"""The hub application on the real MicroPython unix port (tests/mp/hub_app.py): boot,
heartbeat, configuration, a panic press with the buzzer, an outage, readings, a new
configuration and a crashing sensor task, against a MiniFleet over real UDP and OSCORE.

The app and protocol/ run precompiled with mpy-cross, as a hub holds them (compiling
the source on the hub would cost more RAM than running it). The heap is 200 KB because
this port is 64-bit: objects take about twice the room they take on an ESP32."""

import socket
import subprocess

from tests.hubcode import BIN
from tests.mpy import ROOT, run_micropython


def _compile(src_dir, out_dir):
    out_dir.mkdir(parents=True)
    for src in src_dir.glob("*.py"):
        subprocess.run(
            [str(BIN / "mpy-cross"), "-o", str(out_dir / (src.stem + ".mpy")), str(src)],
            check=True,
        )


def test_hub_app_runs_on_micropython(tmp_path):
    lib = tmp_path / "lib"
    _compile(ROOT / "firmware" / "hub", lib / "hub")
    _compile(ROOT / "protocol", lib / "protocol")
    flash = tmp_path / "flash"
    flash.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run_micropython(
        path=ROOT / "tests" / "mp" / "hub_app.py",
        heapsize="200K",
        paths=(lib, ROOT / "emulator" / "hw", ROOT / "tests" / "mp"),
        args=(port,),
        cwd=flash,
        timeout=60,
    )
    assert res.status == 0, res.output
    last = res.output.split("\n")[-2].split()
    assert last[0] == "OK", res.output
    latency_ms, heap_used = int(last[1]), int(last[2])
    assert latency_ms < 100
    print("panic latency (ms):", latency_ms, "heap held by the running app (bytes):", heap_used)
    # The hub wrote its state to its flash, never its identity to the log.
    log = (flash / "hub.log").read_text()
    assert "crashed" in log and "configuration 0008" in log
    secret = bytes(range(16))
    assert secret.hex() not in log + res.output and repr(secret) not in log + res.output
    assert {"identity.cbor", "config.cbor", "oscore.seq", "outbox"} <= {
        p.name for p in flash.iterdir()
    }
