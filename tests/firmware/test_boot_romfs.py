"""boot.py and a ROMFS partition, on real MicroPython (tests/mp/boot_romfs.py lends boot.py
a partition as vfs.rom_ioctl does): the active copy's code is packed into the partition
(the same bytes as tools/romfs.py), mounted at /rom and imported from there in place;
a partition that already holds it is not written again; a torn write is rewritten;
another copy is packed when it becomes the active one; a partition too small, or none,
leaves the code running from the files. A copy's record (romfs.key) spares reading its
code at boot; a missing or stale one costs a read, never a mismatched partition; a power
cut in any flash write leaves a partition that no copy takes as its own."""

import random

import pytest

from tests.mpy import ROOT, compile_dir, run_micropython
from tools import romfs

BOOT = ROOT / "firmware" / "boot.py"
SCRIPT = ROOT / "tests" / "mp" / "boot_romfs.py"


@pytest.fixture
def flash(tmp_path):
    """A flash with a cable-deployed copy at the root and an updated one in app1/."""
    flash = tmp_path / "flash"
    for slot, version in ((flash, "0.1.0"), (flash / "app1", "0.2.0")):
        src = tmp_path / ("src-" + version)
        src.mkdir()
        (src / "version.py").write_text(f"VERSION = {version!r}\n")
        (src / "app.py").write_text("from hub.version import VERSION\nBIG = '" + "x" * 5000 + "'\n")
        compile_dir(src, slot / "hub")
        (slot / "hub" / "notes.txt").write_text("not code")
    (flash / "boot.py").write_bytes(BOOT.read_bytes())
    return flash


def run(flash, part_size, image=None, cut=None):
    """Boot once with a partition of part_size bytes (holding `image` at first), the power
    failing in the cut-th flash erase or write if given; returns (printed lines, the
    partition afterwards)."""
    part = flash.parent / "part.bin"
    if image is not None:
        part.write_bytes(image.ljust(part_size, b"\xff"))
    elif not part.exists() or part.stat().st_size != part_size:
        part.write_bytes(b"\xff" * part_size)
    args = (part,) if cut is None else (part, cut)
    out, status = run_micropython(path=SCRIPT, args=args, cwd=flash, heapsize="200K")
    assert status == 0, out
    return out.split("\n"), part.read_bytes()


def expected(slot):
    return romfs.partition(romfs.slot_files(slot))


def record(slot):
    """What an installer leaves beside a copy."""
    return romfs.slot_record(romfs.slot_files(slot))


def reads(lines):
    return [ln for ln in lines if ln.startswith("read ")]


def writes(lines):
    return [ln for ln in lines if "writing" in ln]


def test_code_runs_in_place_from_the_partition(flash):
    lines, part = run(flash, 16384)
    assert "module /rom/hub/app.mpy 0.1.0" in lines
    assert part.startswith(expected(flash))
    assert sum("writing" in ln for ln in lines) == 1
    assert (flash / "romfs.key").read_text() == record(flash)  # as an installer writes it
    lines, again = run(flash, 16384)  # already there: no flash written, no code read
    assert "module /rom/hub/app.mpy 0.1.0" in lines and not writes(lines) and not reads(lines)
    assert again == part


def test_an_installed_copy_is_mounted_without_reading_its_code(flash):
    (flash / "romfs.key").write_text(record(flash))
    lines, part = run(flash, 16384, expected(flash))
    assert "module /rom/hub/app.mpy 0.1.0" in lines
    assert not reads(lines) and not writes(lines)
    assert part == expected(flash).ljust(16384, b"\xff")


def test_a_missing_or_stale_record_costs_a_read_never_a_mismatch(flash):
    sealed = expected(flash)
    # No record (an older install), or another copy's (the same sizes, another key): the
    # code is read, the partition it already holds kept, the record put right.
    for stale in (None, record(flash / "app1")):
        if stale:
            (flash / "romfs.key").write_text(stale)
        lines, part = run(flash, 16384, sealed)
        assert "module /rom/hub/app.mpy 0.1.0" in lines, lines
        assert reads(lines) and not writes(lines)
        assert (flash / "romfs.key").read_text() == record(flash)
    # The code changed after its record was written: read, packed again, the new one runs.
    src = flash.parent / "src-0.1.10"
    src.mkdir()
    (src / "version.py").write_text("VERSION = '0.1.10'\n")
    compile_dir(src, flash / "hub")
    lines, part = run(flash, 16384, sealed)
    assert "module /rom/hub/app.mpy 0.1.10" in lines
    assert reads(lines) and writes(lines) and part.startswith(expected(flash))
    assert (flash / "romfs.key").read_text() == record(flash)


def test_a_power_cut_in_any_flash_write_is_never_taken_for_a_copy(flash):
    # app1 has the same sizes as the root's copy: the image, and so the place of the key,
    # are the same; a cut while app1 replaces the root's copy must not leave either key.
    assert len(expected(flash)) == len(expected(flash / "app1"))
    for slot in (flash, flash / "app1"):
        (slot / "romfs.key").write_text(record(slot))
    cut = 0
    while True:
        (flash / "ota.state").write_text("app1 . 3")
        lines, part = run(flash, 16384, expected(flash), cut=cut)
        if not any("PowerCut" in ln for ln in lines):
            assert part.startswith(expected(flash / "app1"))
            break
        for state, version, slot in (("app1 . 3", "0.2.0", flash / "app1"), (None, "0.1.0", flash)):
            (flash / "ota.state").unlink()
            if state:
                (flash / "ota.state").write_text(state)
            lines, after = run(flash, 16384, part)
            assert "module /rom/hub/app.mpy " + version in lines, (cut, lines)
            assert writes(lines) and after.startswith(expected(slot)), cut
            (flash / "ota.state").write_text("app1 . 3")
        cut += 1
    assert cut >= 4  # the old key, the erase, the image's blocks, the new key


def test_torn_write_is_detected_and_rewritten(flash):
    want = expected(flash)
    rng = random.Random(4)
    for cut in [rng.randrange(1, len(want)) for _ in range(5)] + [len(want) - 1]:
        lines, part = run(flash, 16384, want[:cut])
        assert any("writing" in ln for ln in lines), cut
        assert "module /rom/hub/app.mpy 0.1.0" in lines and part.startswith(want)


def test_the_active_copy_is_packed_after_an_update(flash):
    run(flash, 16384)
    (flash / "ota.state").write_text("app1 . 3")
    lines, part = run(flash, 16384)
    assert "module /rom/hub/app.mpy 0.2.0" in lines
    assert part.startswith(expected(flash / "app1"))


def test_too_small_a_partition_leaves_the_files(flash):
    lines, part = run(flash, 4096)
    assert any("too small" in ln for ln in lines)
    assert any(ln.startswith("module hub/app.mpy 0.1.0") for ln in lines), lines
    assert part == b"\xff" * 4096


def test_without_a_partition_the_files_run(flash):
    out, status = run_micropython(path=SCRIPT, cwd=flash, heapsize="200K")
    assert status == 0 and "module hub/app.mpy 0.1.0" in out.split("\n"), out
