"""An emulated hub's serial port against the real mpremote: what a technician's cable
does (list, copy, hash, run, reset), and Ctrl-C stopping a running application."""

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulator.supervisor import Hub, provision

MPREMOTE = str(Path(sys.executable).with_name("mpremote"))


def mpremote(tty, *args, timeout=30):
    r = subprocess.run(
        [MPREMOTE, "connect", tty, *args], capture_output=True, text=True, timeout=timeout
    )
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def bare_hub(tmp_path):
    """A hub with MicroPython and nothing else on its flash but one file."""
    hub_dir = provision(tmp_path / "hub", firmware=None, protocol=None)
    (hub_dir / "flash" / "hello.txt").write_text("ciao")
    hub = Hub(hub_dir, serial=True)
    hub.start()
    yield hub
    hub.close()


def test_fs_ls_lists_the_flash(bare_hub):
    code, out, err = mpremote(bare_hub.tty, "fs", "ls")
    assert code == 0, err
    assert "4 hello.txt" in out
    code, out, _ = mpremote(bare_hub.tty, "fs", "ls", ":/")
    assert code == 0 and "hello.txt" in out


def test_copy_hash_cat_and_exec(bare_hub, tmp_path):
    data = bytes(range(256)) * 20  # binary, longer than one raw-paste window
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    assert mpremote(bare_hub.tty, "fs", "mkdir", ":lib")[0] == 0
    code, _, err = mpremote(bare_hub.tty, "fs", "cp", str(src), ":lib/blob.bin")
    assert code == 0, err
    assert (bare_hub.dir / "flash" / "lib" / "blob.bin").read_bytes() == data
    code, out, _ = mpremote(bare_hub.tty, "fs", "sha256sum", ":lib/blob.bin")
    assert out.split()[-1] == hashlib.sha256(data).hexdigest()
    code, out, _ = mpremote(bare_hub.tty, "fs", "cat", ":hello.txt")
    assert out.strip().endswith("ciao")
    code, out, _ = mpremote(bare_hub.tty, "exec", "import os; print(sorted(os.listdir('/')))")
    assert code == 0 and "'hello.txt', 'lib'" in out


def test_errors_read_as_micropython_ones(bare_hub):
    code, _, err = mpremote(bare_hub.tty, "fs", "ls", ":missing")
    assert code == 1 and "No such file or directory" in err
    code, out, _ = mpremote(bare_hub.tty, "exec", "1/0")
    assert code == 1 and "ZeroDivisionError" in out


def test_hard_reset_ends_the_hub_process_and_keeps_the_port(bare_hub):
    pid = bare_hub.proc.pid
    assert mpremote(bare_hub.tty, "exec", "print('x')")[0] == 0
    assert bare_hub.proc.pid == pid  # the soft reboot happened in place
    assert mpremote(bare_hub.tty, "reset")[0] == 0
    assert bare_hub.wait(10) > 100  # machine.reset(): the supervisor restarts it
    bare_hub.start()
    assert mpremote(bare_hub.tty, "fs", "ls")[0] == 0


def test_ctrl_c_stops_a_running_application(tmp_path):
    hub_dir = provision(tmp_path / "hub", firmware=None, protocol=None)
    (hub_dir / "flash" / "main.py").write_text(
        "import time\nprint('app started')\nwhile True:\n    time.sleep(0.01)\n"
    )
    hub = Hub(hub_dir, real_time=True, serial=True)
    hub.start()
    try:
        end = time.monotonic() + 10
        while "app started" not in hub.console():
            assert time.monotonic() < end, hub.console()
            time.sleep(0.02)
        code, out, err = mpremote(hub.tty, "exec", "print('in the REPL')")
        assert code == 0, err
        assert "in the REPL" in out
        assert "KeyboardInterrupt" in hub.console()
        assert hub.running()
    finally:
        hub.close()
