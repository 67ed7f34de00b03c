"""Over-the-air update of the MicroPython image itself (manifest component "micropython",
protocol/README.md "OTA") through the ESP32's two OTA app partitions. hub.ota and
hub.ota_fetch import this only for such an offer, or at boot while an image is on trial.

The image goes straight from the fleet's Block2 blocks into the partition the running one
would update (Partition(RUNNING).get_next_update()), a 4 KB flash block at a time, each
written whole (erased, then programmed). ota.bin then holds not the image but the
download's progress, CBOR [partition label, ETag, flash blocks written], so a reboot or
a lost link resumes at the first block not yet written, and everything hub.ota already
clears with ota.bin (a new release, a refusal, the install) clears it too. The SHA-256 is
then taken over what the partition holds, not over what was received.

Installing writes ota.image (hub.ota's IMAGE), CBOR [seq, version, new label, old label,
trial seconds], then set_boot() and the anti-rollback mark; hub.ota reports "updating" and
resets. The bootloader boots the new image once, pending verification. If it reaches the
fleet and runs its sensor tasks for a while (hub.ota's rule for apps), confirm() calls
mark_app_valid_cancel_rollback(). A reset before that, whether a crash, a hang caught by
the watchdog, hub.ota's trial timer or a power cut, makes the bootloader boot the old
image again; boot() then finds the old partition running and reports "rolled back".
A confirmation also writes the release's version to ota.iver, which the heartbeat reports
(key 11) for the fleet to compare with the release's.
"""

from hub import ota_fetch
from hub import ota_files as fs
from hub.ota import IMAGE
from protocol import cbor

try:
    from micropython import const
except ImportError:  # CPython (the emulator, tests): the constants here are all ints
    const = int
try:
    import esp32
except ImportError:  # not an ESP32: check() refuses an image ("hardware")
    esp32 = None

_FLASH = const(4096)  # the flash's erase block: what writeblocks() erases and programs
_PER = const(4)  # CoAP blocks (fs.BLOCK) in a flash block
IVER = "ota.iver"  # the version of the image release last confirmed (hub.app reads it)


def _chip():
    if esp32 is None:
        raise fs.Refused("hardware")
    return esp32


def _running():
    part = _chip().Partition
    # The stubs type the id as a label only; MicroPython takes RUNNING and BOOT too.
    return part(part.RUNNING)  # pyright: ignore[reportArgumentType]


def _next():
    try:
        return _running().get_next_update()
    except (OSError, ValueError):  # firmware built without OTA partitions
        raise fs.Refused("hardware") from None


def check(m, seq, slot):
    """Refused unless the image release m is the one offered as seq, newer than anything
    installed, built for this hardware, and fits the partition it would go to."""
    if m.get(fs.M_SEQ) != seq or not isinstance(m.get(fs.M_DIGEST), bytes):
        raise fs.Refused("manifest")
    if seq < fs.high_water(slot):
        raise fs.Refused("sequence")
    if m.get(fs.M_HW) != fs.hw_class():
        raise fs.Refused("hardware")
    if m[fs.M_SIZE] > _next().info()[3]:
        raise fs.Refused("space")
    try:
        # The running image is valid here (no offer is taken during a trial), so this
        # changes nothing, but it fails on firmware built without the bootloader's
        # rollback: such a hub must not take an image it could not take back.
        _chip().Partition.mark_app_valid_cancel_rollback()
    except OSError:
        raise fs.Refused("hardware") from None


async def download(up, m):
    """The image written whole into the next partition and as m signs it, fetching only
    the flash blocks not yet written."""
    part = _next()
    label = part.info()[4]
    etag = m[fs.M_DIGEST][:8]
    size = m[fs.M_SIZE]
    p = fs.load(fs.BUNDLE)
    done = p[2] if isinstance(p, list) and len(p) == 3 and p[:2] == [label, etag] else 0
    buf = bytearray(_FLASH)
    if done * _FLASH < size:
        at = [done, 0]  # the flash block being filled, and its bytes so far

        def flush():
            for i in range(at[1], _FLASH):
                buf[i] = 0xFF  # as erased
            part.writeblocks(at[0], buf)
            at[0] += 1
            at[1] = 0
            fs.write(fs.BUNDLE, cbor.dumps([label, etag, at[0]]))  # after the block is in

        def out(data):
            while len(data):
                n = min(len(data), _FLASH - at[1])
                buf[at[1] : at[1] + n] = data[:n]
                at[1] += n
                data = data[n:]
                if at[1] == _FLASH:
                    flush()

        dl = await ota_fetch._fetch(up, "i", done * _PER, etag, out)
        if dl is None:
            raise OSError("no answer from the fleet")
        if dl.offset != size:
            fs.remove(fs.BUNDLE)
            raise fs.Refused("size")
        if at[1]:
            flush()
    if _digest(part, size, buf) != m[fs.M_DIGEST]:
        fs.remove(fs.BUNDLE)  # written again from its first block at the next offer
        raise fs.Refused("integrity")


def _digest(part, size, buf):
    import hashlib

    h = hashlib.sha256()
    for n in range((size + _FLASH - 1) // _FLASH):
        part.readblocks(n, buf)
        h.update(memoryview(buf)[: min(_FLASH, size - n * _FLASH)])
    return h.digest()


def install(m):
    """Make the verified image in the next partition the one that boots, once."""
    part = _next()
    seq = m[fs.M_SEQ]
    trial = (m.get(fs.M_TRIAL) or (1, 300))[1]
    rec = [seq, m.get(fs.M_VERSION), part.info()[4], _running().info()[4], trial]
    fs.write(IMAGE, cbor.dumps(rec))  # first: whatever boots next knows the trial
    part.set_boot()  # the bootloader re-checks the image here and refuses a bad one
    fs.write(fs.SEQ, str(seq))


def boot(up):
    """At boot with ota.image on flash (Updater up): the new image on its trial, or the
    bootloader's rollback from it to report."""
    rec = fs.load(IMAGE)
    if not (isinstance(rec, list) and len(rec) >= 5):
        fs.remove(IMAGE)
        return
    seq, version, new = rec[0], rec[1], rec[2]
    r = up.report
    if r and r[0] == "updated" and r[1] == seq:
        _keep_version(version)  # a cut took what confirm() did after its note
        fs.remove(IMAGE)
        return
    if _running().info()[4] == new:
        if len(rec) == 5:
            fs.write(IMAGE, cbor.dumps(rec + [1]))  # it booted: not booting it again is a rollback
        up.image = rec
        up.trial = True
        return
    # Back on the old image: a rollback if the new one booted or was set to boot (the
    # anti-rollback mark follows set_boot). A cut before set_boot installed nothing: the
    # download is still there for the next offer.
    if len(rec) > 5 or fs.high_water(up.slot) > seq:
        up._note("rolled back", seq, version)
    fs.remove(IMAGE)  # after the note: a cut between them notes it again


def confirm(up):
    """The image on trial proved itself: the bootloader keeps it from now on."""
    _chip().Partition.mark_app_valid_cancel_rollback()
    rec = up.image
    up.trial = False
    up.image = None
    up._note("updated", rec[0], rec[1])
    _keep_version(rec[1])
    fs.remove(IMAGE)


def _keep_version(version):
    # Heartbeat key 11 (hub.app) from now on: the fleet calls the deployment "updated", and
    # offers this release no more, once it sees the release's version there. Only a
    # confirmation changes it: a rollback returns to the image it already named.
    if isinstance(version, str):
        fs.write(IVER, version)
