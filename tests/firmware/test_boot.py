"""boot.py picks the application copy: the confirmed one, a new one on trial, or the old
one again after a failed update — on CPython and on real MicroPython."""

import pytest

from tests.mpy import ROOT, run_micropython

BOOT = ROOT / "firmware" / "boot.py"
# Run boot.py as the hub does (cwd = flash root), then show what it decided.
SHOW = "exec(open(%r).read()); import sys; print('app=' + (sys.path[0] if _app else ''))"


def boot_cpython(flash, monkeypatch):
    monkeypatch.chdir(flash)
    scope = {}
    exec(compile(BOOT.read_text(), str(BOOT), "exec"), scope)
    return scope["_app"]


def boot_micropython(flash, _monkeypatch):
    out, status = run_micropython(SHOW % str(BOOT), cwd=flash)
    assert status == 0, out
    return out.strip().split("=", 1)[1]


@pytest.fixture(params=[boot_cpython, boot_micropython], ids=["cpython", "micropython"])
def boot(request, monkeypatch):
    return lambda flash: request.param(flash, monkeypatch)


def test_no_state_runs_the_app_at_the_root(tmp_path, boot):
    assert boot(tmp_path) == ""
    assert not (tmp_path / "ota.state").exists()


def test_confirmed_copy_keeps_running(tmp_path, boot):
    (tmp_path / "ota.state").write_text("app1 app0 ok")
    assert [boot(tmp_path) for _ in range(3)] == ["app1"] * 3
    assert (tmp_path / "ota.state").read_text() == "app1 app0 ok"


def test_unconfirmed_update_rolls_back_after_its_tries(tmp_path, boot):
    (tmp_path / "ota.state").write_text("app1 app0 2")
    assert [boot(tmp_path) for _ in range(4)] == ["app1", "app1", "app0", "app0"]
    assert (tmp_path / "ota.state").read_text() == "app0 app1 ok"
    assert (tmp_path / "ota.rollback").read_text() == "app1"


def test_update_confirmed_during_trial_stays(tmp_path, boot):
    (tmp_path / "ota.state").write_text("app1 app0 3")
    assert boot(tmp_path) == "app1"
    (tmp_path / "ota.state").write_text("app1 app0 ok")  # the app proved healthy
    assert [boot(tmp_path) for _ in range(5)] == ["app1"] * 5


@pytest.mark.parametrize("garbage", ["", "app1", "app1 app0 x y", "\xff\xfe"])
def test_damaged_state_never_stops_the_boot(tmp_path, boot, garbage):
    (tmp_path / "ota.state").write_text(garbage)
    assert boot(tmp_path) in ("", "app0")


def test_interrupted_deploy_keeps_the_app_stopped(tmp_path, boot):
    (tmp_path / "deploy.pending").write_text("{}")
    (tmp_path / "ota.state").write_text("app1 app0 2")
    assert not boot(tmp_path)  # nothing chosen: no trial boot used up
    assert (tmp_path / "ota.state").read_text() == "app1 app0 2"
    assert "deploy.pending" in (tmp_path / "hub.log").read_text()


def test_main_does_not_start_the_app_during_a_deploy(tmp_path):
    # With the app missing, main.py would log a crash and reset; instead it just returns.
    (tmp_path / "deploy.pending").write_text("{}")
    main = ROOT / "firmware" / "main.py"
    out, status = run_micropython(f"exec(open({str(main)!r}).read()); print('REPL')", cwd=tmp_path)
    assert status == 0 and out.strip() == "REPL", out
    assert not (tmp_path / "crash.log").exists()


def test_boot_leaves_no_code_in_main_globals(tmp_path):
    # boot.py's globals are __main__'s for the hub's lifetime: functions left there would
    # keep their bytecode, compiled from source, on the heap.
    code = (
        f"g = {{'__name__': '__main__'}}; exec(open({str(BOOT)!r}).read(), g); "
        "print(sorted(k for k, v in g.items() if callable(v) or type(v) is type)); "
        "print(repr(g['_app']))"
    )
    out, status = run_micropython(code, cwd=tmp_path)
    assert status == 0, out
    assert out.split() == ["[]", "''"], out
