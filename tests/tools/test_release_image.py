"""`portineria release build --image`: a release of the MicroPython image itself, built
and signed by the same command and in the same manifest format as an application."""

import hashlib
import json
import sys

import pytest

from protocol import cbor, cose
from tests.mpy import ROOT
from tests.tools.test_release import cli
from tools import release

sys.path.insert(0, str(ROOT / "emulator" / "hw"))

import esp32  # noqa: E402

IMAGE = esp32.emulated_image(b"MicroPython 1.25.0", size=5000)


def test_build_image_signs_a_manifest_of_component_micropython(tmp_path):
    key = tmp_path / "release.key"
    cli("keygen", key)
    pub = release.public_bytes(release.load_private_key(key))
    (tmp_path / "fw.bin").write_bytes(IMAGE)
    code, out, err = cli(
        "build", "--json", "--key", key, "--version", "1.25.0", "--seq", 12,
        "--out", tmp_path / "r", "--image", tmp_path / "fw.bin", "--trial", "1,120",
    )  # fmt: skip
    assert code == 0, err
    said = json.loads(out)
    assert said["component"] == "micropython" and said["size"] == len(IMAGE)
    signed = (tmp_path / "r" / "manifest.cose").read_bytes()
    assert (tmp_path / "r" / "bundle.bin").read_bytes() == IMAGE  # the image as it is
    m = cbor.loads(cose.verify_sign1(signed, [(release.kid_of(pub), pub)]))
    assert m[release.M_COMPONENT] == "micropython" and m[release.M_SEQ] == 12
    assert m[release.M_HW] == "micropython-esp32" and m[release.M_FILES] == []
    assert m[release.M_SIZE] == len(IMAGE)
    assert m[release.M_DIGEST] == hashlib.sha256(IMAGE).digest()
    assert m[release.M_TRIAL] == [1, 120]


def _merged():
    # What `esptool merge_bin` or micropython.org's download is: the bootloader (itself an
    # image, 0xE9) at 0x1000, the partition table (magic AA 50) at 0x8000, the app after.
    out = bytearray(b"\xff" * 0x10000)
    out[0:4] = bytes([0xE9, 3, 2, 0])
    out[0x7000:0x7002] = b"\xaa\x50"
    return bytes(out) + IMAGE


@pytest.mark.parametrize(
    ("data", "says"),
    [(b"\x7fELF" + bytes(100), "not an ESP32 app image"), (_merged(), "merged")],
)
def test_a_file_that_is_not_an_app_image_is_refused_in_one_sentence(tmp_path, data, says):
    release.create_key(tmp_path / "K")
    (tmp_path / "fw.bin").write_bytes(data)
    code, _, err = cli(
        "build", "--key", "K", "--version", "1.25.0", "--seq", 3, "--out", "o",
        "--image", "fw.bin", cwd=tmp_path,
    )  # fmt: skip
    assert code == 1 and err.startswith("portineria: ") and says in err, err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_an_image_release_carries_no_key_rotation(tmp_path):
    release.create_key(tmp_path / "K")
    (tmp_path / "fw.bin").write_bytes(IMAGE)
    code, _, err = cli(
        "build", "--key", "K", "--version", "1.25.0", "--seq", 3, "--out", "o",
        "--image", "fw.bin", "--rotate", "K", cwd=tmp_path,
    )  # fmt: skip
    assert code == 1 and "--rotate" in err and not (tmp_path / "o").exists()
