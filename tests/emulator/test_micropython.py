"""hal and the emulator's stand-ins under the real MicroPython unix port, heap capped."""

from tests.mpy import ROOT, run_micropython

# ".frozen" keeps the port's frozen asyncio importable once MICROPYPATH replaces sys.path.
PATHS = [".frozen", ROOT / "emulator" / "hw", ROOT / "firmware"]


def test_hal_runs_on_micropython_with_the_stand_ins():
    res = run_micropython(path=ROOT / "tests" / "mp" / "emu_hal.py", paths=PATHS)
    assert res.status == 0, res.output
    assert res.output.split() == ["OK", "True"]


def test_machine_stand_in_extends_the_ports_builtin():
    res = run_micropython(
        "import machine; print(hasattr(machine, 'mem32'), hasattr(machine, 'Pin'))", paths=PATHS
    )
    assert res.output.split() == ["True", "True"], res.output
