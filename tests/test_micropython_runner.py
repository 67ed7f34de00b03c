"""The MicroPython runner is what every on-hub test relies on: check it runs the real port."""

from tests.mpy import run_micropython


def test_runs_on_real_micropython_with_project_on_path():
    res = run_micropython(
        "import sys, protocol.errors as e; print(sys.implementation.name, e.CBORError.code)"
    )
    assert res.status == 0, res.output
    assert res.output.split() == ["micropython", "128"]


def test_heap_cap_is_enforced():
    # 200 KB cannot fit a 100 KB heap: the cap is real, so heap figures mean something.
    res = run_micropython("b = bytearray(200_000)", heapsize="100K")
    assert res.status != 0
    assert "MemoryError" in res.output


def test_failure_reports_status_and_traceback():
    res = run_micropython("raise ValueError('boom')")
    assert res.status == 1
    assert "ValueError: boom" in res.output
