"""Store-and-forward queue on flash: events are logged with a CRC and forgotten only when
the fleet acknowledges them, across reboots and power cuts.

    box = Outbox("/data/outbox")           # opens (or creates) the log; never fails on a torn tail
    seq = box.put(payload, urgent)          # -> seq, or None: periodic reading refused (full)
    for seq, urgent, payload in box.peek(900):   # emergencies first, then readings, oldest first
        ...send...
    box.ack(seqs)                           # the fleet has them: forget them
    box.flush()                             # put buffered readings and acks on flash now

One append-only file `log` of records, each
    0xA7 | kind (1) | length (2, LE) | seq (4, LE) | payload | CRC-32 of kind..payload (4, LE)
with kinds: emergency, reading, forget (payload: seqs acked or dropped), reserve (seq: the
sequence number high-water mark). Opening scans the log once; a record whose CRC fails
(a torn write) is skipped byte by byte until the next valid record, so nothing after it
is hidden. RAM holds an index of 10 bytes per queued record, never the payloads
(measured on MicroPython: 17 KB for a full 64 KB log of 40-byte payloads); the 1 KB read
window that scan needs exists only while opening.

Emergencies are written and synced before put() returns. Readings wait in a RAM buffer
of `batch` bytes (one write when it fills or the next would not fit, at flush(), or with
the next emergency); peek() offers them at once, and one acked while still buffered never
reaches flash. A power cut loses at most that buffer, never an emergency. Acks are
persisted at the next write; one lost in a power cut only means a resend, which the fleet
deduplicates by seq.

Sequence numbers are never reused: a reserve record is synced before a seq at or past the
persisted mark is handed out, and a reboot restarts at the mark (as OSCORE Appendix
B.1.1), so a reboot skips at most 256 numbers.

Bounds: queued records (bytes_used()) stay within `capacity`; to make room the oldest
readings are dropped (counted in `dropped`); if only emergencies are left a new reading
is refused (counted in `refused`) while an emergency is still accepted. Dead bytes in the
log (acked, dropped, torn) are reclaimed by compaction once they reach `capacity`: the
live records are copied to `log.new`, synced, then renamed over `log` (atomic on
LittleFS). A cut before the rename leaves the old log whole (log.new is discarded at
open); on FAT, where rename cannot replace, the old log is removed first and a cut in
between leaves a complete log.new, which open promotes. Flash used: the log (at most
2 x capacity) plus log.new during compaction (at most capacity).
"""

import binascii
import os
import struct
from array import array

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


_MAGIC = const(0xA7)
_URGENT = const(1)
_READING = const(2)
_FORGET = const(3)
_RESERVE = const(4)
_HDR = const(8)  # magic, kind, length, seq
_OVERHEAD = const(12)  # header and CRC
_MAX_PAYLOAD = const(1012)  # a record fits the read window
_WINDOW = const(1024)
_CHUNK = const(128)  # compaction copies records through this much RAM
_SEQ_STEP = const(256)  # seqs reserved per reserve record
_FORGET_MAX = const(250)  # seqs per forget record


class _OsFs:
    # The real file system: what MicroPython's os and open() offer.
    def open(self, path, mode):
        return open(path, mode)

    def rename(self, old, new):
        os.rename(old, new)

    def remove(self, path):
        os.remove(path)

    def size(self, path):
        try:
            return os.stat(path)[6]
        except OSError:
            return -1

    def mkdir(self, path):
        try:
            os.mkdir(path)
        except OSError:
            pass  # exists

    def sync(self):
        sync = getattr(os, "sync", None)  # ESP32 has it, the unix port does not
        if sync:
            sync()


def _record(kind, seq, payload, buf=None, pos=0):
    # Encode one record into buf at pos (a new bytearray without buf); returns the buffer.
    n = len(payload)
    if buf is None:
        buf = bytearray(n + _OVERHEAD)
    struct.pack_into("<BBHI", buf, pos, _MAGIC, kind, n, seq)
    buf[pos + _HDR : pos + _HDR + n] = payload
    crc = binascii.crc32(memoryview(buf)[pos + 1 : pos + _HDR + n])
    struct.pack_into("<I", buf, pos + _HDR + n, crc)
    return buf


class _Index:
    # Queued records of one priority in seq order: seq, offset in the log, record length
    # (0 once acked or dropped). Dead entries are packed away when they outnumber live ones.
    def __init__(self):
        self.seqs = array("I")
        self.offs = array("I")
        self.lens = array("H")
        self.start = 0  # entries before it are all dead
        self.live = 0

    def add(self, seq, off, n):
        self.seqs.append(seq)
        self.offs.append(off)
        self.lens.append(n)
        self.live += 1

    def last(self):
        return self.seqs[-1] if len(self.seqs) else 0

    def find(self, seq):
        seqs = self.seqs
        lo, hi = self.start, len(seqs)
        while lo < hi:
            mid = (lo + hi) >> 1
            if seqs[mid] < seq:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(seqs) and seqs[lo] == seq and self.lens[lo]:
            return lo
        return -1

    def kill(self, i):
        n = self.lens[i]
        self.lens[i] = 0
        self.live -= 1
        lens = self.lens
        while self.start < len(lens) and not lens[self.start]:
            self.start += 1
        if len(lens) - self.start - self.live > max(32, self.live):
            self._pack()
        return n

    def _pack(self):
        seqs, offs, lens = self.seqs, self.offs, self.lens
        self.__init__()
        for i in range(len(seqs)):
            if lens[i]:
                self.add(seqs[i], offs[i], lens[i])


class Outbox:
    """A persistent queue of (seq, urgent, payload); see the module docstring."""

    def __init__(self, dirpath, capacity=65536, fs=None, batch=1024):
        self._fs = fs = fs or _OsFs()
        self._path = dirpath + "/log"
        self._tmp = dirpath + "/log.new"
        self.capacity = capacity
        self.batch = batch
        self.dropped = 0  # readings dropped to make room, since open
        self.refused = 0  # readings refused because only emergencies were queued
        self.skipped = 0  # bytes of torn or corrupt records found at open
        self._win = bytearray(_WINDOW)  # read window over the log, while _scan() reads it
        self._wpos = 0
        self._wlen = 0
        self._chunk = bytearray(_CHUNK)
        # Readings not yet written: a batch, or one record of the largest size.
        self._pbuf = bytearray(max(batch, _MAX_PAYLOAD + _OVERHEAD))
        self._plen = 0
        self._pcount = 0
        self._forget = array("I")  # acked or dropped seqs not yet recorded on flash
        fs.mkdir(dirpath)
        if fs.size(self._tmp) >= 0:
            if fs.size(self._path) < 0:
                fs.rename(self._tmp, self._path)  # cut between remove and rename (FAT)
            else:
                fs.remove(self._tmp)  # cut before the rename: the old log is whole
        self._scan()
        self._win = bytearray(0)  # 1 KB a hub's heap needs more than a cache of the log

    # -- public API

    def put(self, payload, urgent):
        """Queue payload; returns its seq, or None if a reading was refused for lack of
        room. An emergency is on flash when this returns (OSError if flash fails)."""
        n = len(payload) + _OVERHEAD
        if n > _MAX_PAYLOAD + _OVERHEAD:
            raise ValueError("outbox payload too long")
        if not self._make_room(n) and not urgent:
            self.refused += 1
            return None
        seq = self._next
        reserve = seq + _SEQ_STEP if seq >= self._reserved else 0
        if urgent:
            rec = _record(_URGENT, seq, payload)
            self._commit(rec, reserve)
        else:
            if reserve or self._plen + n > len(self._pbuf):
                self._commit(None, reserve)
            _record(_READING, seq, payload, self._pbuf, self._plen)
            self._plen += n
            self._pcount += 1
        self._next = seq + 1
        if self._plen >= self.batch:
            self._commit()
        return seq

    def flush(self):
        """Write buffered readings and acks to flash."""
        if self._plen or len(self._forget):
            self._commit()

    def peek(self, max_bytes):
        """Oldest queued records, emergencies first, as (seq, urgent, payload) with at most
        max_bytes of payload in all (but always one record if any is queued)."""
        out = []
        total = 0
        f = None
        try:
            for idx, urgent in ((self._u, True), (self._p, False)):
                lens = idx.lens
                for i in range(idx.start, len(lens)):
                    n = lens[i]
                    if not n:
                        continue
                    if out and total + n - _OVERHEAD > max_bytes:
                        return out
                    if f is None:
                        f = self._fs.open(self._path, "rb")
                    out.append((idx.seqs[i], urgent, self._payload(f, idx.offs[i], n)))
                    total += n - _OVERHEAD
        finally:
            if f is not None:
                f.close()
        pos, buf = 0, self._pbuf
        while pos < self._plen:
            n = buf[pos + 2] | buf[pos + 3] << 8
            if out and total + n > max_bytes:
                break
            seq = struct.unpack_from("<I", buf, pos + 4)[0]
            out.append((seq, False, bytes(buf[pos + _HDR : pos + _HDR + n])))
            total += n
            pos += n + _OVERHEAD
        return out

    def ack(self, seqs):
        """The fleet has these seqs: forget them (unknown seqs are ignored)."""
        for seq in seqs:
            if self._unbuffer(seq):
                continue
            for idx in (self._u, self._p):
                i = idx.find(seq)
                if i >= 0:
                    self._live -= idx.kill(i)
                    self._forget.append(seq)

    def depth(self):
        """Number of queued records."""
        return self._u.live + self._p.live + self._pcount

    def urgent_depth(self):
        """Number of queued emergencies."""
        return self._u.live

    def bytes_used(self):
        """Bytes of queued records, overhead included: what `capacity` bounds."""
        return self._live + self._plen

    def compact(self):
        """Rewrite the log with only the queued records (also done by itself when needed)."""
        fs = self._fs
        u, p = _Index(), _Index()
        dst = fs.open(self._tmp, "wb")
        try:
            head = _record(_RESERVE, self._reserved, b"")
            dst.write(head)
            pos = len(head)
            src = fs.open(self._path, "rb") if self._size else None
            try:
                for old, new in ((self._u, u), (self._p, p)):
                    for i in range(old.start, len(old.lens)):
                        n = old.lens[i]
                        if n:
                            self._copy(src, dst, old.offs[i], n)
                            new.add(old.seqs[i], pos, n)
                            pos += n
            finally:
                if src is not None:
                    src.close()
            pos = self._index_buffer(p, pos)
            dst.write(memoryview(self._pbuf)[: self._plen])
        finally:
            dst.close()
        fs.sync()
        try:
            fs.rename(self._tmp, self._path)
        except OSError:
            fs.remove(self._path)  # FAT cannot rename over a file
            fs.rename(self._tmp, self._path)
        fs.sync()
        self._u, self._p = u, p
        self._size = pos
        self._live = pos - len(head)
        self._plen = self._pcount = 0
        self._forget = array("I")

    # -- internals

    def _scan(self):
        # Rebuild the index from the log, skipping what does not check out.
        self._u, self._p = _Index(), _Index()
        self._live = 0
        reserved = top = 1
        size = self._size = max(self._fs.size(self._path), 0)
        if size:
            f = self._fs.open(self._path, "rb")
            try:
                pos = 0
                while pos + _OVERHEAD <= size:
                    n = self._check(f, pos, size)
                    if not n:
                        self.skipped += 1
                        pos += 1
                        continue
                    j = self._load(f, pos, n)
                    kind, seq = self._win[j + 1], struct.unpack_from("<I", self._win, j + 4)[0]
                    if kind == _RESERVE:
                        reserved = max(reserved, seq)
                    elif kind == _FORGET:
                        for k in range(j + _HDR, j + n - 4, 4):
                            self._drop_seq(struct.unpack_from("<I", self._win, k)[0])
                    else:
                        idx = self._u if kind == _URGENT else self._p
                        if seq > idx.last():  # else a copy left by a failed write
                            idx.add(seq, pos, n)
                            self._live += n
                            top = max(top, seq + 1)
                    pos += n
                self.skipped += size - pos
            finally:
                f.close()
        self._reserved = reserved
        self._next = max(reserved, top)

    def _check(self, f, pos, end):
        # Length of a valid record at pos, or 0.
        j = self._load(f, pos, _HDR)
        w = self._win
        n = (w[j + 2] | w[j + 3] << 8) + _OVERHEAD
        if w[j] != _MAGIC or not 1 <= w[j + 1] <= 4 or n > _WINDOW or pos + n > end:
            return 0
        j = self._load(f, pos, n)
        crc = struct.unpack_from("<I", w, j + n - 4)[0]
        return n if binascii.crc32(memoryview(w)[j + 1 : j + n - 4]) == crc else 0

    def _load(self, f, pos, n):
        # Make log bytes [pos, pos + n) readable in the window; returns where they start.
        j = pos - self._wpos
        if j < 0 or j + n > self._wlen:
            f.seek(pos)
            self._wlen = f.readinto(self._win) or 0
            self._wpos = pos
            j = 0
        return j

    def _payload(self, f, pos, n):
        # The payload of the n-byte record at log offset pos, read from flash.
        buf = bytearray(n - _OVERHEAD)
        f.seek(pos + _HDR)
        f.readinto(buf)
        return bytes(buf)

    def _copy(self, src, dst, pos, n):
        # Copy log bytes [pos, pos + n) from src to dst, a chunk at a time.
        buf = self._chunk
        src.seek(pos)
        while n > 0:
            k = min(src.readinto(buf) or 0, n)
            if not k:
                return  # the log is shorter than its index said: nothing more to copy
            dst.write(buf if k == _CHUNK else memoryview(buf)[:k])
            n -= k

    def _drop_seq(self, seq):
        for idx in (self._u, self._p):
            i = idx.find(seq)
            if i >= 0:
                self._live -= idx.kill(i)

    def _unbuffer(self, seq):
        # Remove a reading still in the RAM buffer; True if it was there.
        pos, buf = 0, self._pbuf
        while pos < self._plen:
            n = (buf[pos + 2] | buf[pos + 3] << 8) + _OVERHEAD
            if struct.unpack_from("<I", buf, pos + 4)[0] == seq:
                buf[pos : self._plen - n] = buf[pos + n : self._plen]
                self._plen -= n
                self._pcount -= 1
                return True
            pos += n
        return False

    def _make_room(self, n):
        # Drop the oldest readings until n more bytes fit; False if only emergencies are left.
        while self._live + self._plen + n > self.capacity:
            p = self._p
            if p.live:
                seq = p.seqs[p.start]
                self._live -= p.kill(p.start)
                self._forget.append(seq)
            elif self._pcount:
                self._unbuffer(struct.unpack_from("<I", self._pbuf, 4)[0])
            else:
                return False
            self.dropped += 1
        return True

    def _index_buffer(self, p, pos):
        # Index the buffered readings as written at log offset pos; returns the end offset.
        i, buf = 0, self._pbuf
        while i < self._plen:
            n = (buf[i + 2] | buf[i + 3] << 8) + _OVERHEAD
            p.add(struct.unpack_from("<I", buf, i + 4)[0], pos + i, n)
            i += n
        return pos + self._plen

    def _commit(self, rec=None, reserve=0):
        # One append and sync: seq reservation, buffered readings, forgets, an emergency.
        if self._size - self._live >= self.capacity:
            self.compact()  # also writes the buffer and drops the forgets
        fs = self._fs
        f = fs.open(self._path, "ab")
        try:
            pos = self._size
            if reserve:
                f.write(_record(_RESERVE, reserve, b""))
                pos += _OVERHEAD
            if self._plen:
                f.write(memoryview(self._pbuf)[: self._plen])
            forget = self._forget
            for k in range(0, len(forget), _FORGET_MAX):
                m = min(_FORGET_MAX, len(forget) - k)
                seqs = bytearray(4 * m)
                for i in range(m):
                    struct.pack_into("<I", seqs, 4 * i, forget[k + i])
                f.write(_record(_FORGET, 0, seqs))
            if rec is not None:
                f.write(rec)
        except BaseException:
            f.close()
            self._size = max(fs.size(self._path), 0)  # a partial write is garbage now
            raise
        f.close()
        fs.sync()
        self._size = max(fs.size(self._path), 0)
        if reserve:
            self._reserved = reserve
        pos = self._index_buffer(self._p, pos)
        self._live += self._plen
        self._plen = self._pcount = 0
        self._forget = array("I")
        if rec is not None:
            self._u.add(self._next, self._size - len(rec), len(rec))
            self._live += len(rec)
