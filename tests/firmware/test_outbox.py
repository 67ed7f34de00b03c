"""The hub's store-and-forward queue: emergencies survive anything, seqs are never reused,
flash stays bounded."""

import sys
from pathlib import Path

import pytest

from tests.mpy import ROOT, run_micropython

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`

from hub.outbox import Outbox  # noqa: E402

from tests.mp import outbox_trials  # noqa: E402
from tests.mp.outbox_faultfs import FaultFS, PowerCut  # noqa: E402


def queued(box):
    return box.peek(1 << 30)


def test_put_peek_ack_survive_reopen(tmp_path):
    box = Outbox(str(tmp_path))
    a = box.put(b"reading-1", False)
    b = box.put(b"panic", True)
    c = box.put(b"reading-2", False)
    assert a < b < c
    # Emergencies first, then readings, each oldest first.
    assert queued(box) == [(b, True, b"panic"), (a, False, b"reading-1"), (c, False, b"reading-2")]
    box.ack([b])
    box.flush()
    box = Outbox(str(tmp_path))
    assert queued(box) == [(a, False, b"reading-1"), (c, False, b"reading-2")]
    assert box.depth() == 2
    assert box.bytes_used() == len(b"reading-1") + len(b"reading-2") + 2 * 12


def test_emergency_is_on_flash_when_put_returns(tmp_path):
    box = Outbox(str(tmp_path))
    r = box.put(b"temp 21.5", False)
    e = box.put(b"fall", True)
    # No flush, no close: the power goes now. The emergency also carried the reading.
    assert queued(Outbox(str(tmp_path))) == [(e, True, b"fall"), (r, False, b"temp 21.5")]


def test_readings_wait_in_ram_until_batch_or_flush(tmp_path):
    box = Outbox(str(tmp_path), batch=100)
    box.put(b"x" * 30, False)
    assert queued(Outbox(str(tmp_path))) == []  # buffered: a cut now loses it
    box.put(b"y" * 60, False)  # 2 records of 42 and 72 bytes pass the batch
    assert len(queued(Outbox(str(tmp_path)))) == 2
    s = box.put(b"z", False)
    box.flush()
    assert queued(Outbox(str(tmp_path)))[-1] == (s, False, b"z")


def test_reading_that_would_not_fit_the_buffer_writes_it_first(tmp_path):
    # The RAM buffer is one batch (at least one largest record), not a batch plus one.
    box = Outbox(str(tmp_path), batch=1024)
    a = box.put(b"a" * 700, False)
    assert queued(Outbox(str(tmp_path))) == []
    b = box.put(b"b" * 400, False)  # 712 + 412 bytes would overflow: the 700 go to flash
    assert queued(Outbox(str(tmp_path))) == [(a, False, b"a" * 700)]
    assert queued(box) == [(a, False, b"a" * 700), (b, False, b"b" * 400)]
    box.flush()
    assert [s for s, _, _ in queued(Outbox(str(tmp_path)))] == [a, b]


def test_ack_of_buffered_reading_never_touches_flash(tmp_path):
    fs = FaultFS()
    box = Outbox("/q", fs=fs)
    s = box.put(b"x", False)  # the first put reserves seqs: one write
    writes = fs.writes
    box.ack([s])
    box.flush()
    assert fs.writes == writes
    assert box.depth() == 0


def test_peek_limits_bytes_but_always_returns_one(tmp_path):
    box = Outbox(str(tmp_path))
    seqs = [box.put(bytes(100), False) for _ in range(3)]
    assert [s for s, _, _ in box.peek(250)] == seqs[:2]
    assert [s for s, _, _ in box.peek(10)] == seqs[:1]
    assert box.peek(10**6) == queued(box)
    assert Outbox(str(tmp_path / "empty")).peek(100) == []


def test_seqs_increase_across_reboots_and_jump_ahead(tmp_path):
    last = 0
    for _ in range(5):
        box = Outbox(str(tmp_path))
        for _ in range(3):
            s = box.put(b"r", False)  # never flushed: the seq must not come back anyway
            assert s > last
            last = s
    assert last < 5 * 256 + 3  # a reboot skips at most one reservation


def test_seq_reservation_survives_compaction(tmp_path):
    box = Outbox(str(tmp_path), capacity=200)
    last = 0
    for _ in range(300):
        last = box.put(b"0123456789", True)
        box.ack([last])
    box.flush()
    assert Outbox(str(tmp_path)).put(b"a", True) > last


def test_full_drops_oldest_readings_never_emergencies(tmp_path):
    box = Outbox(str(tmp_path), capacity=300)
    e1 = box.put(b"e" * 20, True)
    readings = [box.put(b"r" * 28, False) for _ in range(6)]  # 40 bytes each
    assert box.dropped == 0
    assert box.bytes_used() == 32 + 6 * 40
    r7 = box.put(b"r" * 28, False)
    assert box.dropped == 1
    assert [s for s, _, _ in queued(box)] == [e1, *readings[1:], r7]
    e2 = box.put(b"e" * 90, True)  # 102 bytes for 28 free: two readings go
    assert box.dropped == 3
    assert [s for s, u, _ in queued(box)] == [e1, e2, *readings[3:], r7]
    assert box.bytes_used() <= 300


def test_full_of_emergencies_refuses_readings_keeps_emergencies(tmp_path):
    box = Outbox(str(tmp_path), capacity=100)
    urgent = [box.put(b"e" * 38, True) for _ in range(2)]  # 100 bytes
    assert box.put(b"r", False) is None
    assert box.refused == 1
    urgent.append(box.put(b"smoke", True))  # over capacity, but never refused
    assert [s for s, _, _ in queued(Outbox(str(tmp_path), capacity=100))] == urgent


def test_torn_tail_is_skipped_and_log_still_appends(tmp_path):
    box = Outbox(str(tmp_path))
    a = box.put(b"first", True)
    b = box.put(b"second", True)
    log = tmp_path / "log"
    log.write_bytes(log.read_bytes()[:-5])  # the write of b was torn
    box = Outbox(str(tmp_path))
    assert box.skipped == 18 - 5
    assert queued(box) == [(a, True, b"first")]
    c = box.put(b"third", True)
    assert c > b
    assert queued(Outbox(str(tmp_path))) == [(a, True, b"first"), (c, True, b"third")]


def test_corrupt_record_does_not_hide_those_after_it(tmp_path):
    box = Outbox(str(tmp_path))
    seqs = [box.put(b"event %d" % i, True) for i in range(4)]
    log = tmp_path / "log"
    data = bytearray(log.read_bytes())
    data[12 + 8 + 3] ^= 0x01  # a bit flips in the payload of the first event
    log.write_bytes(data)
    box = Outbox(str(tmp_path))
    assert [s for s, _, _ in queued(box)] == seqs[1:]
    assert box.skipped == 12 + 7


def test_garbage_log_opens_empty_and_seqs_restart_safely(tmp_path):
    (tmp_path / "log").write_bytes(bytes(range(256)) * 8)
    box = Outbox(str(tmp_path))
    assert box.depth() == 0
    assert box.skipped == 2048
    assert box.put(b"x", True) >= 1


def test_compaction_keeps_log_bounded(tmp_path):
    box = Outbox(str(tmp_path), capacity=1000, batch=64)
    keep = box.put(b"unacked panic", True)
    for i in range(2000):
        s = box.put(b"reading %d" % i, i % 50 == 0)
        if i % 7 == 0:
            box.ack([q for q, _, _ in box.peek(200) if q != keep])
        assert (tmp_path / "log").stat().st_size <= 2 * 1000 + 64 + 12 * 3
    box.flush()
    again = Outbox(str(tmp_path), capacity=1000)
    assert queued(again) == queued(box)
    assert queued(again)[0] == (keep, True, b"unacked panic")
    assert again.put(b"x", False) > s


def test_cut_before_rename_discards_new_log(tmp_path):
    box = Outbox(str(tmp_path))
    a = box.put(b"panic", True)
    (tmp_path / "log.new").write_bytes(b"\xa7partial")
    box = Outbox(str(tmp_path))
    assert queued(box) == [(a, True, b"panic")]
    assert not (tmp_path / "log.new").exists()


@pytest.mark.parametrize("replace", [True, False], ids=["littlefs", "fat"])
def test_cut_at_every_step_of_a_compaction(replace):
    promoted = False
    for budget in range(80):
        fs = FaultFS(replace=replace)
        box = Outbox("/q", fs=fs)
        a = box.put(b"panic", True)
        e = box.put(b"smoke", True)
        r = box.put(b"reading", False)
        box.ack([a])
        fs.cut_after(budget)
        try:
            box.compact()
        except PowerCut:
            pass
        promoted |= set(fs.files) == {"/q/log.new"}  # FAT: old log removed, new not renamed
        fs.power_on()
        got = queued(Outbox("/q", fs=fs))
        assert (e, True, b"smoke") in got
        assert set(got) <= {(a, True, b"panic"), (e, True, b"smoke"), (r, False, b"reading")}
        assert set(fs.files) == {"/q/log"}
    assert promoted != replace


def test_fault_fs_tears_writes():
    # The trials below mean something only if a cut really leaves half a write behind.
    fs = FaultFS()
    f = fs.open("/f", "wb")
    fs.cut_after(4)
    with pytest.raises(PowerCut):
        f.write(b"abcdef")
    assert fs.files["/f"] == b"abcd"
    with pytest.raises(PowerCut):
        fs.remove("/f")


def test_too_long_payload_is_refused():
    with pytest.raises(ValueError):
        Outbox("/q", fs=FaultFS()).put(bytes(1013), True)


def test_1000_random_power_cut_trials():
    # See tests/mp/outbox_trials.py for what every trial checks.
    assert outbox_trials.run(1000) > 10000


def test_runs_on_micropython(tmp_path):
    script = Path(outbox_trials.__file__)
    res = run_micropython(path=script, paths=["firmware", "tests/mp"], args=[100])
    assert res.status == 0, res.output
    assert res.output.startswith("OK ")


def test_micropython_real_files(tmp_path):
    code = f"""
from hub.outbox import Outbox
d = {str(tmp_path)!r}
box = Outbox(d, capacity=600, batch=64)
e = box.put(b"panic", True)
for i in range(100):
    box.put(b"reading %d" % i, False)
box.ack([s for s, _, _ in box.peek(300)[1:]])
box.flush()
again = Outbox(d, capacity=600)
assert again.peek(1 << 20) == box.peek(1 << 20)
assert again.peek(10)[0] == (e, True, b"panic")
assert again.bytes_used() <= 600
print("OK", again.depth(), again.put(b"x", True) > e)
"""
    res = run_micropython(code, paths=["firmware"])
    assert res.status == 0, res.output
    assert res.output.split()[0] == "OK" and res.output.split()[2] == "True", res.output


def test_power_cuts_on_real_littlefs_under_micropython():
    # MicroPython's own LittleFS v2 over a RAM block device that loses every block write
    # after a random point: see tests/mp/outbox_littlefs.py.
    script = ROOT / "tests" / "mp" / "outbox_littlefs.py"
    res = run_micropython(path=script, paths=["firmware"], args=[40])
    assert res.status == 0, res.output
    ok, trials, puts = res.output.split()
    assert (ok, trials) == ("OK", "40") and int(puts) > 400
