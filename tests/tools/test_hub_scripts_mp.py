"""The scripts deploy and doctor send to a hub run on real MicroPython (the unix port):
hashing, making directories, installing staged files and removing stale ones."""

import ast
import hashlib

from tests.mpy import run_micropython
from tools import deploy


def test_deploy_scripts_on_micropython(tmp_path):
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "app.py").write_bytes(b"old")
    (tmp_path / "hub" / "app.py.new").write_bytes(b"new" * 400)
    (tmp_path / "stale.py").write_bytes(b"x")
    code = "\n".join(
        [
            deploy._MKDIRS % (["hub", "lib"],),
            deploy._INSTALL % (["hub/app.py"], ".new", ".new", ["stale.py", "ota.state"]),
            deploy._HASHES % (["hub/app.py", "missing.py"],),
        ]
    )
    out, status = run_micropython(code, cwd=tmp_path)
    assert status == 0, out
    digests = ast.literal_eval(out.strip().splitlines()[-1])
    assert digests == [hashlib.sha256(b"new" * 400).hexdigest(), None]
    assert (tmp_path / "lib").is_dir() and not (tmp_path / "stale.py").exists()
    assert not (tmp_path / "hub" / "app.py.new").exists()
