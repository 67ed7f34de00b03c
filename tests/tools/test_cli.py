"""The technician's CLI: every failure is one line `portineria: …` and exit status 1."""

import subprocess
import sys
from pathlib import Path

import pytest

from tools import identity
from tools.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(*argv, cwd=None, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "tools", *argv],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_python_m_tools_reports_a_usage_mistake_in_one_line():
    status, out, err = run("provision", "--label")
    assert status == 1 and out == ""
    assert err == "portineria: Option '--label' requires an argument\n"
    status, out, err = run("provision")
    assert status == 1 and out == ""
    assert err == "portineria: say where the identity goes: --out FLASH_DIR or --port DEV\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["revoke", "hub-1"], "say where the fleet is"),
        (["--server", "http://127.0.0.1:9", "revoke", "hub-1"], "PORTINERIA_TOKEN"),
        (["--server", "http://127.0.0.1:9", "--token", "t", "revoke", "hub-1"], "cannot reach"),
        (["--database", "sqlite:////nonexistent/dir/x.db", "revoke", "hub-1"], "database error"),
    ],
)
def test_errors_are_one_line_and_exit_1(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("PORTINERIA_SERVER", raising=False)
    monkeypatch.delenv("PORTINERIA_TOKEN", raising=False)
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("portineria: ") and err.count("\n") == 1
    assert message in err


def test_existing_identity_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "identity.cbor").write_bytes(b"old")
    assert main(["--database", "sqlite:///unused.db", "provision", "--out", str(tmp_path)]) == 1
    assert "exists" in capsys.readouterr().err
    assert (tmp_path / "identity.cbor").read_bytes() == b"old"


def test_identity_writer_refuses_what_a_hub_would_refuse(tmp_path):
    fields = {
        "v": 1,
        "hub": "h",
        "sid": b"\x01",
        "ms": bytes(15),
        "host": "x",
        "ssid": "",
        "wkey": "",
    }
    with pytest.raises(identity.IdentityError, match="secret or id length"):
        identity.write(tmp_path, fields)
    assert not (tmp_path / "identity.cbor").exists()


def test_the_command_alone_shows_its_help():
    status, out, err = run("rollout")
    assert status == 2 and err == ""
    assert out.startswith("Usage: portineria rollout") and "status" in out and "pause" in out
