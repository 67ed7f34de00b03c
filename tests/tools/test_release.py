"""tools/release.py: release keys, the bundle and its signed manifest, as a technician
runs them (`portineria release ...`) and as the hub reads them."""

import hashlib
import os
import stat
import subprocess
import sys

import pytest

from protocol import cbor, cose
from tests.mpy import ROOT, run_micropython
from tools import release


def cli(*args, cwd=ROOT):
    proc = subprocess.run(
        [sys.executable, "-m", "tools", "release", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def unpack(bundle):
    """{path: bytes} from a PTB1 bundle, as the format is documented."""
    assert bundle[:4] == release.MAGIC
    files, pos = {}, 4
    while pos < len(bundle):
        n = int.from_bytes(bundle[pos : pos + 2], "big")
        path = bundle[pos + 2 : pos + 2 + n].decode()
        size = int.from_bytes(bundle[pos + 2 + n : pos + 6 + n], "big")
        files[path] = bundle[pos + 6 + n : pos + 6 + n + size]
        pos += 6 + n + size
    assert pos == len(bundle)
    return files


def test_keygen_pubkey_trust(tmp_path):
    key = tmp_path / "release.key"
    code, out, _ = cli("keygen", key)
    assert code == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    pub = release.public_bytes(release.load_private_key(key))
    assert pub.hex() in out and release.kid_of(pub).hex() in out
    code, out, _ = cli("pubkey", key)
    assert out.split() == ["kid", release.kid_of(pub).hex(), "public", pub.hex()]
    other = os.urandom(32).hex()
    code, _, _ = cli("trust", tmp_path, key, other)
    assert code == 0
    assert cbor.loads((tmp_path / "ota.keys").read_bytes()) == [
        [release.kid_of(pub), pub],
        [release.kid_of(bytes.fromhex(other)), bytes.fromhex(other)],
    ]


def test_keygen_makes_a_private_directory_for_a_new_key(tmp_path):
    key = tmp_path / "keys" / "release.key"  # as the README has it: ~/keys, new
    assert cli("keygen", key)[0] == 0
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert release.load_private_key(key) is not None


def test_keygen_never_overwrites_a_key(tmp_path):
    key = tmp_path / "release.key"
    cli("keygen", key)
    before = key.read_bytes()
    code, out, err = cli("keygen", key)
    assert code == 1 and err.startswith("portineria: ") and err.count("\n") == 1
    assert "never overwritten" in err and key.read_bytes() == before


@pytest.mark.parametrize(
    "args, says",
    [
        (["build", "--key", "missing.key", "--version", "1", "--seq", "2", "--out", "o"], "key"),
        (["build", "--key", "K", "--version", "1", "--seq", "0", "--out", "o"], "sequence"),
        (["build", "--key", "K", "--version", "1", "--seq", "2", "--out", "o", "--trial", "x"], "trial"),
        (["build", "--key", "K", "--version", "1", "--seq", "2", "--out", "o", "--trial", "0,60"], "trial"),
        (["build", "--key", "K", "--version", "1", "--seq", "2", "--out", "o", "--firmware", "."], "version.py"),
        (["pubkey", "nothing-here"], "neither"),
        (["frobnicate"], "No such command"),
    ],
)  # fmt: skip
def test_user_mistakes_are_one_sentence(tmp_path, args, says):
    release.create_key(tmp_path / "K")
    code, out, err = cli(*args, cwd=tmp_path)
    assert code == 1 and err.startswith("portineria: ") and says in err, err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_build_signs_a_manifest_that_describes_the_bundle(tmp_path):
    key = tmp_path / "release.key"
    cli("keygen", key)
    pub = release.public_bytes(release.load_private_key(key))
    code, out, err = cli(
        "build", "--key", key, "--version", "0.4.0", "--seq", 9, "--out", tmp_path / "r",
        "--hw", "cpython-linux", "--trial", "2,120",
    )  # fmt: skip
    assert code == 0, err
    signed = (tmp_path / "r" / "manifest.cose").read_bytes()
    bundle = (tmp_path / "r" / "bundle.bin").read_bytes()
    assert cbor.loads(signed).tag == 18
    m = cbor.loads(cose.verify_sign1(signed, [(release.kid_of(pub), pub)]))
    assert m[release.M_SEQ] == 9 and m[release.M_VERSION] == "0.4.0"
    assert m[release.M_COMPONENT] == "hub-app" and m[release.M_HW] == "cpython-linux"
    assert m[release.M_SIZE] == len(bundle)
    assert m[release.M_DIGEST] == hashlib.sha256(bundle).digest()
    assert m[release.M_TRIAL] == [2, 120] and release.M_KEYS not in m
    files = unpack(bundle)
    assert [[p, len(d), hashlib.sha256(d).digest()] for p, d in files.items()] == m[release.M_FILES]
    assert "hub/app.py" in files and "protocol/cose.py" in files and "hub/ota.py" in files
    assert "main.py" not in files and "boot.py" not in files  # the fixed boot path
    assert files["hub/version.py"].endswith(b"VERSION = '0.4.0'\n")
    assert files["protocol/cbor.py"] == (ROOT / "protocol" / "cbor.py").read_bytes()
    with pytest.raises(cose.COSEError):  # another key does not open it
        cose.verify_sign1(signed, [os.urandom(32)])


def test_rotation_release_carries_the_new_key_list(tmp_path):
    old = release._ed25519().Ed25519PrivateKey.generate()
    new = release.public_bytes(release._ed25519().Ed25519PrivateKey.generate())
    signed, _, m = release.build(old, "0.5.0", 10, "cpython-linux", keys=[new])
    assert m[release.M_KEYS] == [[release.kid_of(new), new]]
    cose.verify_sign1(signed, [release.public_bytes(old)])  # signed by today's key


def test_micropython_bundle_is_compiled_and_loads_on_micropython(tmp_path):
    key = release._ed25519().Ed25519PrivateKey.generate()
    _, bundle, m = release.build(key, "0.6.0", 3)
    assert m[release.M_HW] == "micropython-esp32"
    files = unpack(bundle)
    assert all(p.endswith(".mpy") or p.endswith("/__init__.py") for p in files)
    assert len(bundle) < sum(len(p.read_bytes()) for p in (ROOT / "protocol").glob("*.py"))
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    out, status = run_micropython(
        "from protocol import cbor\nfrom hub import version\n"
        "print(cbor.loads(cbor.dumps([1, 'a'])), version.VERSION)",
        cwd=tmp_path,
        paths=[tmp_path],
    )
    assert status == 0 and out.split() == ["[1,", "'a']", "0.6.0"], out
