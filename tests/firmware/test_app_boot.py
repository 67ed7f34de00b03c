"""app.boot(), as main.py starts the hub, on the real MicroPython unix port
(tests/mp/app_boot.py): the App holds the identity's values it uses, and hub.identity and
protocol.hkdf, needed only at boot, leave the heap (tests/bench/bench_hub_heap.py marks
them); importing either later loads it again."""

from tests.mpy import ROOT, run_micropython


def test_boot_keeps_the_identity_values_and_lets_boot_only_modules_go(tmp_path):
    res = run_micropython(
        path=ROOT / "tests" / "mp" / "app_boot.py",
        heapsize="200K",  # this port is 64-bit, and the app is imported from .mpy files
        paths=(ROOT / "emulator" / "hw", ROOT / "tests" / "mp"),
        cwd=tmp_path,
        timeout=60,
    )
    assert res.status == 0 and res.output.rstrip().endswith("OK"), res.output
    assert "chiave" not in res.output  # nothing printed the Wi-Fi key
