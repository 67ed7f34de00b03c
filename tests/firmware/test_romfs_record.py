"""The ROMFS record (romfs.key) an installer leaves beside a copy is the one boot.py writes
when it has to read the code itself, on real MicroPython: from hub.ota_install after an
update, and from `portineria deploy`. With it, boot.py mounts the copy unread
(tests/firmware/test_boot_romfs.py)."""

import shutil

from tests.firmware.test_ota import BOOT, build, flash, install, key, small_app  # noqa: F401
from tests.mpy import ROOT, run_micropython
from tools import deploy, release, romfs

# boot.py with a partition too small for the code: it reads the code, writes its record
# (it has none to trust), and leaves the code running from the files.
_BOOT = (
    "import rompart\n"
    "g = {'__name__': '__main__', 'rom_ioctl': rompart.lend(bytearray(4096))}\n"
    "exec(open('boot.py').read(), g)\n"
)


def record_boot_writes(flash, slot):  # noqa: F811
    shutil.copy(BOOT, flash / "boot.py")
    (slot / romfs.RECORD).unlink()
    out, status = run_micropython(_BOOT, cwd=flash, paths=[ROOT / "tests" / "mp"])
    assert status == 0 and "too small" in out, out
    return (slot / romfs.RECORD).read_text()


def test_an_update_leaves_the_record_boot_py_would_write(flash, key, small_app):  # noqa: F811
    cose, bundle, _ = build(key, small_app)
    install(cose, bundle)
    left = (flash / "app0" / romfs.RECORD).read_text()
    assert left == romfs.slot_record(romfs.slot_files(flash / "app0"))
    assert record_boot_writes(flash, flash / "app0") == left


def test_deploy_sends_the_record_boot_py_would_write(tmp_path):
    files = deploy.app_files("cpython", "0.3.0")
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    assert record_boot_writes(tmp_path, tmp_path) == files[romfs.RECORD].decode()


def test_the_hub_makes_the_record_as_the_host_does(key, small_app):  # noqa: F811
    from hub import ota_install  # firmware/ is on the path once tests.firmware.test_ota is

    files = build(key, small_app)[2][release.M_FILES]
    code = f"from hub import ota_install\nprint(ota_install.record({files!r}))"
    out, status = run_micropython(code)
    assert status == 0, out
    assert out.strip() == ota_install.record(files)
