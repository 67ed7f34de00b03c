"""Every file that goes onto a hub must compile for MicroPython and type-check against
the ESP32 stubs; the whole tree must pass ruff."""

import subprocess

import pytest

from tests.hubcode import BIN, ROOT, hub_files, mpy_cross, type_check


@pytest.mark.parametrize("path", hub_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_compiles_with_mpy_cross(path):
    ok, message = mpy_cross(path)
    assert ok, message


def test_mpy_cross_rejects_syntax_micropython_lacks(tmp_path):
    # The check above is only worth something if it catches CPython-only syntax.
    src = tmp_path / "bad.py"
    src.write_text("def f(x):\n    match x:\n        case 1:\n            return 2\n")
    ok, message = mpy_cross(src)
    assert not ok
    assert "SyntaxError" in message


def test_hub_code_type_checks_against_esp32_stubs(tmp_path):
    ok, report = type_check(tmp_path)
    assert ok, report


def test_type_check_catches_a_misused_hardware_api(tmp_path):
    src = tmp_path / "hub" / "bad.py"
    src.parent.mkdir()
    src.write_text("import machine\nmachine.Pin(4, machine.Pin.IN).valu()\n")
    ok, report = type_check(tmp_path, [src.parent])
    assert not ok
    assert "valu" in report


def test_ruff_is_clean():
    proc = subprocess.run([str(BIN / "ruff"), "check", str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
