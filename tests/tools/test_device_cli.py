"""The serial-port commands' user mistakes: one sentence on stderr, exit 1, no traceback;
--help with an example for each; `flash` up to where a board would have to answer."""

import os
import subprocess
import sys

import pytest

from tools.cli import main


@pytest.fixture
def silent_port():
    """A serial port with nothing on the other end."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def _commands(group=None, prefix=()):
    from typer.main import get_command

    from tools.cli import app

    group = group or get_command(app)
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("command", list(_commands()), ids=" ".join)
def test_every_command_has_help_with_an_example(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"portineria {' '.join(command)}" in out.split("example:")[1]


@pytest.mark.parametrize("command", ["deploy", "console", "doctor", "flash"])
def test_help_has_an_example(command):
    proc = subprocess.run(
        [sys.executable, "-m", "tools", command, "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert "example:" in proc.stdout and f"portineria {command} --port" in proc.stdout


def one_line(capsys):
    """The error line; progress lines (flash says which baud rate it tries) may precede it."""
    out, err = capsys.readouterr()
    last = err.splitlines()[-1]
    assert out == "" and last.startswith("portineria: ") and err.count("portineria:") == 1
    assert "Traceback" not in err
    return last


@pytest.mark.parametrize(
    "argv, message",
    [
        (["deploy"], "say which serial port"),
        (["deploy", "--port", "/dev/nonexistent-hub"], "cannot open /dev/nonexistent-hub"),
        (["doctor", "--port", "/dev/nonexistent-hub"], "cannot open"),
        (["console", "--port", "/dev/nonexistent-hub"], "cannot open"),
        (["deploy", "--port", "/dev/x", "--identity", "/no/such/identity.cbor"], "cannot read"),
        (["flash", "--port", "/dev/x"], "Missing option '--image'"),
        (["flash", "--port", "/dev/x", "--image", "/no/such.bin"], "no such firmware image"),
    ],
)
def test_mistakes_are_one_sentence(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("PORTINERIA_PORT", raising=False)
    assert main(argv) == 1
    assert message in one_line(capsys)


def test_flash_refuses_what_is_not_an_esp32_image(tmp_path, capsys):
    image = tmp_path / "firmware.bin"
    image.write_bytes(b"not an image" * 10000)
    assert main(["flash", "--port", "/dev/x", "--image", str(image)]) == 1
    assert "is not an ESP32 firmware image" in one_line(capsys)


def test_flash_says_no_board_answered(tmp_path, capsys, silent_port):
    image = tmp_path / "firmware.bin"
    image.write_bytes(b"\xe9" + bytes(70_000))
    argv = ["flash", "--port", silent_port, "--image", str(image), "--baud", "115200"]
    assert main(argv) == 1
    line = one_line(capsys)
    assert line == f"portineria: no ESP32 answered on {silent_port} " + (
        "(Failed to connect to Espressif device: No serial data received)"
    )


def test_deploy_to_a_silent_port_is_one_sentence(capsys, silent_port):
    assert main(["deploy", "--port", silent_port]) == 1
    assert "no MicroPython REPL answers" in one_line(capsys)
