"""Over-the-air updates of the application (protocol/README.md "OTA"), imported only on
an offer, a trial boot or after a rollback: the heap is tight.

    up = Updater(app)   # reads what boot.py left: a trial to prove, a rollback to report
    up.offer(seq)       # from the heartbeat reply; starts the update task if it is news
    up.tick()           # every second: confirms a healthy trial, or resets a failing one
    up.report           # [state, seq, detail] for heartbeat key 9, or None

GET `m` -> signature, sequence, hardware class, free flash; GET `i` into ota.bin from the
blocks already there; its SHA-256; each file into the inactive slot, digest checked;
ota.state for boot.py's trial; reset. Until ota.state is written the old copy is what
boots, so a power cut anywhere leaves the old or the new application, never a mixture.
"""

import asyncio
import hashlib
import os
import sys
import time

from protocol import cbor, options
from protocol.block import Block2Download
from protocol.coap import CON, Message
from protocol.errors import ProtocolError

try:
    from micropython import const
except ImportError:

    def _identity(x):
        return x

    const = _identity

_STATE = "ota.state"  # boot.py's: "<running> <previous> <trial boots left | ok>"
_ROLLBACK = "ota.rollback"  # boot.py's: the slot it gave up on
_KEYS = "ota.keys"  # CBOR [[kid, key], ...]: at the root (provisioning) or in a slot
_SEQ = "ota.seq"  # the highest sequence number ever installed (anti-rollback)
_REPORT = "ota.report"  # the last outcome, CBOR [state, seq, detail]
_MANIFEST = "ota.m"  # the signed manifest of the download under way
_BUNDLE = "ota.bin"  # the bundle, as far as downloaded
_RELEASE = "release.cbor"  # in a slot: the manifest it was installed from
_GET = const(1)
_SZX = const(6)
_BLOCK = const(1024)
_FS_BLOCK = const(4096)
_MARGIN = const(16384)  # flash left for logs, outbox and configuration during an update
_SETTLE_MS = const(5_000)  # a trial app's tasks run this long without a crash
_MANIFEST_MAX = const(8192)
_RETRIES = const(3)  # exchanges in a row that may time out before waiting for the next offer
_MAGIC = b"PTB1"
# Manifest keys (tools/release.py).
_M_SEQ = const(2)
_M_COMPONENT = const(3)
_M_VERSION = const(4)
_M_HW = const(5)
_M_SIZE = const(6)
_M_DIGEST = const(7)
_M_FILES = const(8)
_M_TRIAL = const(9)
_M_KEYS = const(10)
_FINAL = ("refused", "rolled back", "updated", "updating")  # not retried for that seq


class Refused(Exception):
    """The release must not be installed; the message is the reason reported."""


def hw_class():
    return sys.implementation.name + "-" + sys.platform


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _load(path):
    data = _read(path)
    try:
        return cbor.loads(data) if data else None
    except (ProtocolError, ValueError):  # a damaged file is no file
        return None


def _write(path, data):
    # Aside and rename: a power cut leaves the old or the new file, never half of one.
    with open(path + ".tmp", "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    try:
        os.rename(path + ".tmp", path)
    except OSError:  # FAT does not rename over a file
        os.remove(path)
        os.rename(path + ".tmp", path)


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def _remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass


def _is_dir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def _du(path, rm=False):
    """Bytes the tree at path occupies, in whole filesystem blocks; rm: remove it."""
    if not _is_dir(path):
        n = _blocks(max(_size(path), 0))
        if rm:
            _remove(path)
        return n
    n = sum(_du(path + "/" + e, rm) for e in os.listdir(path))
    if rm:
        os.rmdir(path)
    return n


def _blocks(n):
    return (n + _FS_BLOCK - 1) // _FS_BLOCK * _FS_BLOCK


def _sha256(path, buf):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        n = f.readinto(buf)
        while n:
            h.update(memoryview(buf)[:n])
            n = f.readinto(buf)
    return h.digest()


def state():
    """(running slot, previous slot, trial boots left or "ok"); "." is the flash root."""
    try:
        with open(_STATE) as f:
            running, previous, tries = f.read().split()
        return running, previous, tries
    except (OSError, ValueError):
        return ".", ".", "ok"


def release(slot):
    """The manifest map the slot was installed from ({} for a copy deployed by cable)."""
    m = _load(slot + "/" + _RELEASE)
    return m if isinstance(m, dict) else {}


def _free():
    from hub import hal

    return hal.flash_free()[0]


def _reset():  # tests stand in for these two
    from hub import hal

    hal.reset()


class Updater:
    def __init__(self, app):
        self.app = app
        self.task = None
        r = _load(_REPORT)
        self.report = r if isinstance(r, list) and len(r) == 3 else None
        self.seq = 0  # of the update under way
        self.slot, _, tries = state()
        self.trial = tries != "ok"
        self._t0 = None  # the first tick: the app's main loop has started
        self._limit = 0  # seconds the trial copy has to confirm itself
        failed = _read(_ROLLBACK)
        r = self.report
        if failed is not None:
            m = release(failed.decode().strip())
            self._note("rolled back", m.get(_M_SEQ, 0), m.get(_M_VERSION))
            _remove(_ROLLBACK)
        elif r and r[0] == "updating" and not self.trial:
            # A power cut took the note of boot.py's or confirm()'s decision: redo it.
            ok = release(self.slot).get(_M_SEQ, 0) == r[1]
            self._note("updated" if ok else "rolled back", r[1], r[2])

    def _note(self, what, seq, detail=None):
        self.report = [what, seq, detail]
        try:
            _write(_REPORT, cbor.dumps(self.report))
        except OSError:  # a full flash must not stop the app: the heartbeat still tells
            pass
        self.app.log("update " + str(seq) + ": " + what + " " + str(detail))

    # --- trial boot ------------------------------------------------------------------------

    def tick(self):
        """Confirm the running copy once it reached the fleet and its sensor tasks ran
        without a crash for a while; reset if it cannot do that within its trial."""
        if not self.trial:
            return
        app = self.app
        if self._t0 is None:
            self._t0 = time.ticks_ms()
            self._limit = (release(self.slot).get(_M_TRIAL) or (3, 300))[1]
        age = time.ticks_diff(time.ticks_ms(), self._t0)
        if app.synced and app.crashes == 0 and age >= _SETTLE_MS:
            self.confirm()
        elif age > self._limit * 1000:
            app.log("update not confirmed in " + str(self._limit) + " s: restarting")
            _reset()  # boot.py counts the trial boots down, then rolls back

    def confirm(self):
        running, previous, _ = state()
        _write(_STATE, running + " " + previous + " ok")
        self.trial = False
        m = release(running)
        self._note("updated", m.get(_M_SEQ, 0), m.get(_M_VERSION))

    # --- offers --------------------------------------------------------------------------

    def offer(self, seq):
        if self.task is not None or self.trial:
            return  # one update at a time, and a new copy proves itself first
        running = release(self.slot).get(_M_SEQ, 0)
        r = self.report
        if seq == running or (r and r[1] == seq and r[0] in _FINAL):
            return
        if seq < self._high_water():
            self._note("refused", seq, "sequence")
            return
        self.task = asyncio.create_task(self._run(seq))

    def _high_water(self):
        try:
            mark = int(_read(_SEQ))
        except (TypeError, ValueError):
            mark = 0
        return max(mark, release(self.slot).get(_M_SEQ, 0)) + 1

    async def _run(self, seq):
        self.seq = seq
        try:
            m = await self._manifest(seq)
            await self._download(m)
            self._install(m)
        except Refused as e:
            _remove(_MANIFEST, _BUNDLE)
            self._note("refused", seq, str(e))
        except Exception as e:  # the link or the flash failed: resume at the next offer
            self._note("failed", seq, repr(e)[:40])
        finally:
            self.task = None
            self.app.beats.pop("ota", None)

    async def _get(self, msg):
        # One request through the app's uplink, counted as a live task by the watchdog.
        app = self.app
        up = app.uplink
        app._in_uplink.append("ota")
        await up._lock.acquire()
        try:
            return await up._request(msg)
        finally:
            up._lock.release()
            app._in_uplink.remove("ota")
            app.beat("ota")

    async def _fetch(self, path, num, etag, out):
        """Block2 GET of `path` from block num, handing each block to out(data); the
        last Block2Download, or None if the fleet stopped answering."""
        req = Message(CON, _GET)
        req.add(options.URI_PATH, path)
        dl = Block2Download(req, _SZX, num, etag)
        fails = 0
        while not dl.done:
            resp = await self._get(dl.next_request())
            if resp is None:
                fails += 1
                if fails > _RETRIES:
                    return None
                continue
            fails = 0
            out(dl.feed(resp)[1])
            self.report = ["downloading", self.seq, dl.offset]
        return dl

    # --- manifest ------------------------------------------------------------------------

    async def _manifest(self, seq):
        self.report = ["downloading", seq, 0]
        raw = _read(_MANIFEST)
        m = self._verify(raw) if raw else None
        if m is None or m.get(_M_SEQ) != seq:
            _remove(_MANIFEST, _BUNDLE)  # progress for another release is worth nothing
            buf = bytearray()
            if await self._fetch("m", 0, None, buf.extend) is None:
                raise OSError("no answer from the fleet")
            if len(buf) > _MANIFEST_MAX:
                raise Refused("manifest")
            m = self._verify(bytes(buf))
            if m is None:
                raise Refused("manifest")
            _write(_MANIFEST, buf)
        self._check(m, seq)
        return m

    def _verify(self, raw):
        from protocol import cose
        from protocol.errors import COSEError

        keys = _load(self.slot + "/" + _KEYS) or _load(_KEYS) or ()
        try:
            m = cbor.loads(cose.verify_sign1(raw, keys))
        except COSEError:
            raise Refused("signature") from None
        except ProtocolError:
            return None
        if not isinstance(m, dict):
            return None
        files = m.get(_M_FILES)
        if not isinstance(files, list) or not isinstance(m.get(_M_SIZE), int):
            return None
        for e in files:
            if not (isinstance(e, list) and len(e) == 3 and isinstance(e[0], str)):
                return None
            if ".." in e[0] or e[0].startswith("/"):
                return None  # a file outside its slot is not an application file
        return m

    def _check(self, m, seq):
        if m.get(_M_COMPONENT) != "hub-app" or m.get(_M_SEQ) != seq:
            raise Refused("manifest")
        if seq < self._high_water():
            raise Refused("sequence")
        if m.get(_M_HW) != hw_class():
            raise Refused("hardware")
        need = _blocks(m[_M_SIZE]) + sum(_blocks(e[1]) for e in m[_M_FILES]) + _MARGIN
        have = _free() + _du(_other(self.slot)) + _blocks(max(_size(_BUNDLE), 0))
        if need > have:
            raise Refused("space")

    # --- bundle --------------------------------------------------------------------------

    async def _download(self, m):
        size = m[_M_SIZE]
        have = _size(_BUNDLE)
        if have > size:
            _remove(_BUNDLE)
            have = -1
        if have < size:
            num = max(have, 0) // _BLOCK
            f = open(_BUNDLE, "r+b" if have >= 0 else "wb")
            try:
                f.seek(num * _BLOCK)

                def out(data):
                    f.write(data)
                    f.flush()  # LittleFS keeps a block only once synced

                dl = await self._fetch("i", num, m[_M_DIGEST][:8], out)
            finally:
                f.close()
            if dl is None:
                raise OSError("no answer from the fleet")
            if dl.offset != size:
                _remove(_BUNDLE)
                raise Refused("size")
        if _sha256(_BUNDLE, bytearray(_BLOCK)) != m[_M_DIGEST]:
            raise Refused("integrity")

    def _install(self, m):
        new = _other(self.slot)
        _du(new, rm=True)
        os.mkdir(new)
        buf = bytearray(_BLOCK)
        with open(_BUNDLE, "rb") as f:
            if f.read(4) != _MAGIC:
                raise Refused("integrity")
            for path, size, digest in m[_M_FILES]:
                n = int.from_bytes(f.read(2), "big")
                if f.read(n) != path.encode() or int.from_bytes(f.read(4), "big") != size:
                    raise Refused("integrity")  # the bundle lists other files
                _copy(f, new + "/" + path, size, digest, buf)
            if f.read(1):
                raise Refused("integrity")
        keys = m.get(_M_KEYS)
        keys = cbor.dumps(keys) if keys else _read(self.slot + "/" + _KEYS) or _read(_KEYS)
        if keys:
            _write(new + "/" + _KEYS, keys)
        _write(new + "/" + _RELEASE, cbor.dumps(m))
        boots = (m.get(_M_TRIAL) or (3,))[0]
        # The one step that changes what boots; everything before it can be redone.
        _write(_STATE, new + " " + self.slot + " " + str(boots))
        _write(_SEQ, str(m[_M_SEQ]))
        self._note("updating", m[_M_SEQ], m.get(_M_VERSION))
        _remove(_MANIFEST, _BUNDLE)
        _reset()


def _other(slot):
    return "app1" if slot == "app0" else "app0"


def _copy(src, path, size, digest, buf):
    # Write one file of the bundle, then read it back: what is checked is what is stored.
    d = ""
    for part in path.split("/")[:-1]:
        d = d + "/" + part if d else part
        if not _is_dir(d):
            os.mkdir(d)
    with open(path, "wb") as out:
        left = size
        while left:
            n = src.readinto(memoryview(buf)[: min(left, len(buf))])
            if not n:
                raise Refused("integrity")
            out.write(memoryview(buf)[:n])
            left -= n
    if _sha256(path, buf) != digest:
        raise Refused("integrity")
