# Randomised power-cut trials for the outbox, for CPython (tests/firmware/test_outbox.py)
# and MicroPython (run as a script: prints OK). Each trial runs a random sequence of
# put/flush/peek/ack/compact over a FaultFS whose power fails at a random byte, reboots
# (a new Outbox on the same files) a few times, and checks after every reboot:
#   - the queue opens;
#   - every emergency put() returned, and not acked, is queued with its payload;
#   - every reading that was on flash (after flush() or an emergency) and not acked or
#     dropped is queued;
#   - nothing queued was never put, and no seq is ever handed out twice.
import random
import sys

from hub.outbox import Outbox

try:
    from outbox_faultfs import FaultFS, PowerCut
except ImportError:
    from tests.mp.outbox_faultfs import FaultFS, PowerCut


def _queued(box):
    return box.peek(1 << 30)


def _droppable(box, size, cap):
    # Readings a put of size payload bytes may drop to make room (records cost 12 bytes more).
    over = box.bytes_used() + size + 12 - cap
    out = []
    for seq, urgent, payload in _queued(box):
        if over <= 0:
            break
        if not urgent:
            out.append(seq)
            over -= len(payload) + 12
    return out


def trial(seed):
    random.seed(seed)
    fs = FaultFS(replace=bool(random.getrandbits(1)))
    cap = random.choice([200, 400, 1500])
    batch = random.choice([1, 40, 200])
    issued = {}  # seq -> (urgent, payload) for every put() that returned a seq
    acked = set()
    durable = set()  # readings known to be on flash and still queued
    high = 0  # highest seq handed out or seen queued
    box = Outbox("/q", capacity=cap, fs=fs, batch=batch)
    for _life in range(random.randrange(1, 5)):
        fs.cut_after(random.randrange(0, 2500))
        attempt = None
        try:
            for _step in range(random.randrange(5, 50)):
                op = random.randrange(100)
                if op < 55:
                    urgent = op < 15
                    payload = bytes([random.getrandbits(8) for _ in range(random.randrange(40))])
                    attempt = (urgent, payload, high, _droppable(box, len(payload), cap))
                    seq = box.put(payload, urgent)
                    attempt = None
                    if seq is None:
                        assert not urgent, "emergency refused"
                        assert box.urgent_depth() == box.depth(), "reading refused needlessly"
                        continue
                    assert seq > high, "seq reused"
                    high = seq
                    issued[seq] = (urgent, payload)
                    if box.bytes_used() > cap:
                        assert box.urgent_depth() == box.depth(), "over capacity with readings"
                    if urgent:
                        durable.update(s for s, u, _ in _queued(box) if not u)
                elif op < 65:
                    box.flush()
                    durable.update(s for s, u, _ in _queued(box) if not u)
                elif op < 90:
                    got = box.peek(random.randrange(1, 200))
                    assert got or not box.depth(), "peek found nothing"
                    seqs = [s for s, _, _ in got if random.getrandbits(1)]
                    box.ack(seqs)
                    acked.update(seqs)
                else:
                    box.compact()
                now = set(s for s, _, _ in _queued(box))
                durable.intersection_update(now)  # acked or dropped ones may go
        except PowerCut:
            if attempt is not None:  # the cut put may have dropped these for room
                durable.difference_update(attempt[3])
        fs.power_on()
        box = Outbox("/q", capacity=cap, fs=fs, batch=batch)  # must open whatever happened
        seen = set()
        for seq, urgent, payload in _queued(box):
            assert seq not in seen, "seq queued twice"
            seen.add(seq)
            if seq in issued:
                assert issued[seq] == (urgent, payload), "payload changed"
            else:  # only the put() cut short may have reached flash
                assert attempt is not None and seq > attempt[2], "unknown record"
                assert (urgent, payload) == attempt[:2], "unknown payload"
                issued[seq] = (urgent, payload)
            high = max(high, seq)
        for seq, (urgent, _) in issued.items():
            if urgent and seq not in acked:
                assert seq in seen, "emergency lost"
        for seq in durable:
            assert seq in acked or seq in seen, "flushed reading lost"
        durable.intersection_update(seen)
    return len(issued)


def run(n, first=0):
    total = 0
    for seed in range(first, first + n):
        total += trial(seed)
    return total


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    print("OK", run(n))
