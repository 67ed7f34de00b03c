# The outbox on the file system the ESP32 really uses: LittleFS v2 (MicroPython's
# VfsLfs2) over a RAM block device whose power fails after a random number of block
# programs or erases: later ones are lost. Each trial runs random puts/acks/flushes
# until the cut (the result of the operation under way is then not to be relied on),
# mounts the same blocks again (a reboot) and checks that the file system mounts, the
# queue opens, every emergency put() returned and not acked is there, and no seq comes
# back. MicroPython only (unix port); prints OK, trials and puts.
import os
import random
import sys

from hub.outbox import Outbox

_MOUNT = "/flash"


class RamBlocks:
    # The block device protocol of MicroPython's VFS (extended: offsets and erase). It
    # allocates nothing: LittleFS may call it from a finaliser, with the heap locked.
    def __init__(self, blocks, size=512):
        self.size = size
        self.count = blocks
        self.data = bytearray(blocks * size)
        self.left = -1  # programs/erases before the power fails; -1: never

    def _spend(self):
        # False once the power has failed: the program or erase never happens. (Raising
        # would leave LittleFS files half closed, to be finalised noisily later.)
        if self.left == 0:
            return False
        if self.left > 0:
            self.left -= 1
        return True

    def readblocks(self, n, buf, off=0):
        a = n * self.size + off
        data = self.data
        for i in range(len(buf)):
            buf[i] = data[a + i]

    def writeblocks(self, n, buf, off=0):
        if not self._spend():
            return
        a = n * self.size + off
        data = self.data
        for i in range(len(buf)):
            data[a + i] = buf[i]

    def ioctl(self, op, arg):
        if op == 4:
            return self.count
        if op == 5:
            return self.size
        if op == 6:  # erase
            if self._spend():
                a = arg * self.size
                data = self.data
                for i in range(a, a + self.size):
                    data[i] = 0xFF
            return 0


def trial(seed, dev):
    random.seed(seed)
    dev.left = -1
    os.VfsLfs2.mkfs(dev)
    issued = {}  # seq -> (urgent, payload), put() returned before the cut
    maybe = {}  # the same, returned by the put() during which the power failed
    acked = set()
    high = 0
    for _life in range(3):
        os.mount(os.VfsLfs2(dev), _MOUNT)
        box = Outbox(_MOUNT + "/q", capacity=1500, batch=random.choice((1, 100)))
        seen = set()
        for seq, urgent, payload in box.peek(1 << 20):
            known = issued.get(seq) or maybe.get(seq)
            assert known == (urgent, payload), "unknown record or payload changed"
            issued[seq] = known
            seen.add(seq)
            high = max(high, seq)
        for seq in issued:
            assert not issued[seq][0] or seq in acked or seq in seen, "emergency lost"
        for seq in maybe:
            high = max(high, seq)
        maybe = {}
        dev.left = random.randrange(1, 60)
        try:
            for _ in range(200):
                op = random.randrange(10)
                if op < 6:
                    payload = bytes([random.getrandbits(8)]) * random.randrange(1, 60)
                    urgent = op < 2
                    seq = box.put(payload, urgent)
                    if seq is not None:
                        assert seq > high, "seq reused"
                        high = seq
                        (maybe if dev.left == 0 else issued)[seq] = (urgent, payload)
                elif op < 9:
                    got = [s for s, _, _ in box.peek(random.randrange(1, 300))]
                    box.ack(got)
                    acked.update(got)
                else:
                    box.flush()
                if dev.left == 0:
                    break
        except OSError:
            pass  # LittleFS noticed the lost writes
        dev.left = -1
        os.umount(_MOUNT)
    return len(issued)


n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
total = 0
blocks = RamBlocks(48)  # 24 KB, reformatted for every trial
for seed in range(n):
    total += trial(seed, blocks)
print("OK", n, total)
