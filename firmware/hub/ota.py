"""Over-the-air updates of the application (protocol/README.md "OTA"), imported only on
an offer, a trial boot or after a rollback: the heap is tight.

    up = Updater(app)   # reads what boot.py left: a trial to prove, a rollback to report
    up.offer(seq)       # from the heartbeat reply; starts the update task if it is news
    up.tick()           # every second: confirms a healthy trial, or resets a failing one
    up.report           # [state, seq, detail] for heartbeat key 9, or None

An offer is taken up in two steps, so that nothing is installed while it is unsafe: the
first offer downloads and verifies (report "downloaded"); only an offer that arrives after
that is the go to install, and only while the app's outbox holds no emergency. The fleet
offers nothing while an alert is open for a resident the hub serves or while the hub's
heartbeat (key 10) says it holds emergencies; a held download stays on flash meanwhile.

This module keeps the update's life cycle and its report. The work is in hub.ota_fetch
(manifest and bundle, resumed), hub.ota_verify (signature, sequence, hardware, space,
digest) and hub.ota_install (the inactive slot, then ota.state for boot.py's trial),
imported only once an offer is taken up; hub.ota_files is what they keep on flash. A
release of the MicroPython image itself (component "micropython") goes through
hub.ota_image instead, into the ESP32's next OTA partition, and so does its trial.
"""

import asyncio
import time

from hub import ota_files as fs
from protocol import cbor

try:
    from micropython import const
except ImportError:  # CPython (the emulator, tests): the constants here are all ints
    const = int

_SETTLE_MS = const(5_000)  # a trial app's tasks run this long without a crash
_FINAL = ("refused", "rolled back", "updated", "updating")  # not retried for that seq
IMAGE = "ota.image"  # hub.ota_image's record of a MicroPython image installed for a trial


class Updater:
    def __init__(self, app):
        self.app = app
        self.task = None
        r = fs.load(fs.REPORT)
        self.report = r if isinstance(r, list) and len(r) == 3 else None
        self.seq = 0  # of the update under way
        self.ready = None  # the manifest of a bundle verified on flash, waiting for a go
        self.slot, _, tries = fs.state()
        self.trial = tries != "ok"
        self._t0 = None  # the first tick: the app's main loop has started
        self._limit = 0  # seconds the trial copy has to confirm itself
        self.image = None  # hub.ota_image's record while a new MicroPython image is on trial
        failed = fs.read(fs.ROLLBACK)
        r = self.report
        if failed is not None:
            m = fs.release(failed.decode().strip())
            self._note("rolled back", m.get(fs.M_SEQ, 0), m.get(fs.M_VERSION))
            fs.remove(fs.ROLLBACK)
        elif fs.size(IMAGE) >= 0:
            from hub import ota_image

            ota_image.boot(self)
        elif r and r[0] == "updating" and not self.trial:
            # A power cut took the note of boot.py's or confirm()'s decision: redo it.
            ok = fs.release(self.slot).get(fs.M_SEQ, 0) == r[1]
            self._note("updated" if ok else "rolled back", r[1], r[2])

    def _note(self, what, seq, detail=None):
        self.report = [what, seq, detail]
        try:
            fs.write(fs.REPORT, cbor.dumps(self.report))
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
            if self.image:
                self._limit = self.image[4]
            else:
                self._limit = (fs.release(self.slot).get(fs.M_TRIAL) or (3, 300))[1]
        age = time.ticks_diff(time.ticks_ms(), self._t0)
        if app.synced and app.crashes == 0 and age >= _SETTLE_MS:
            self.confirm()
        elif age > self._limit * 1000:
            app.log("update not confirmed in " + str(self._limit) + " s: restarting")
            fs.reset()  # boot.py counts the trial boots down (an image: the bootloader)

    def confirm(self):
        if self.image:
            from hub import ota_image

            ota_image.confirm(self)
            return
        running, previous, _ = fs.state()
        fs.write(fs.STATE, running + " " + previous + " ok")
        self.trial = False
        m = fs.release(running)
        self._note("updated", m.get(fs.M_SEQ, 0), m.get(fs.M_VERSION))

    # --- offers --------------------------------------------------------------------------

    def offer(self, seq):
        if self.task is not None or self.trial:
            return  # one update at a time, and a new copy proves itself first
        running = fs.release(self.slot).get(fs.M_SEQ, 0)
        r = self.report
        if seq == running or (r and r[1] == seq and r[0] in _FINAL):
            return
        if seq < fs.high_water(self.slot):
            self._note("refused", seq, "sequence")
            return
        self.task = asyncio.create_task(self._run(seq))

    async def _run(self, seq):
        self.seq = seq
        try:
            from hub import ota_fetch, ota_install  # the heavy part, for an offer taken up

            m = self.ready
            if m is None or m[fs.M_SEQ] != seq:
                self.ready = None
                m = await ota_fetch.manifest(self, seq)
                await ota_fetch.bundle(self, m)
                self.ready = m
                self._note("downloaded", seq, m.get(fs.M_VERSION))
                return  # the go is a later offer: the fleet's word after this download
            if self.app.box.urgent_depth():
                # An emergency not yet delivered: a reset now would delay it.
                self.app.log("update " + str(seq) + ": held, an emergency is queued")
                return
            self.ready = None
            if m.get(fs.M_COMPONENT) == "micropython":
                from hub import ota_image

                ota_image.install(m)
            else:
                ota_install.install(m, self.slot)
            self._note("updating", m[fs.M_SEQ], m.get(fs.M_VERSION))
            fs.remove(fs.MANIFEST, fs.BUNDLE)
            fs.reset()
        except fs.Refused as e:
            fs.remove(fs.MANIFEST, fs.BUNDLE)
            self._note("refused", seq, str(e))
        except Exception as e:  # the link or the flash failed: resume at the next offer
            self._note("failed", seq, repr(e)[:40])
        finally:
            self.task = None
            self.app.beats.pop("ota", None)
