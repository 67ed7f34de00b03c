"""Downloading a release from the fleet: the signed manifest (`m`), then the bundle (`i`)
into ota.bin, Block2 through the app's uplink. Both resume from what is on flash: a
manifest kept in ota.m is not fetched again, and the bundle goes on from its last whole
block, so a reboot or a lost link costs only the blocks still missing."""

from hub import ota_files as fs
from hub import ota_verify
from protocol import options
from protocol.block import Block2Download
from protocol.coap import CON, Message

try:
    from micropython import const
except ImportError:  # CPython (the emulator, tests): the constants here are all ints
    const = int

_GET = const(1)
_SZX = const(6)  # 1024-byte blocks (fs.BLOCK)
_MANIFEST_MAX = const(8192)
_RETRIES = const(3)  # exchanges in a row that may time out before waiting for the next offer


async def manifest(up, seq):
    """The verified manifest of release seq (Updater up), from ota.m or the fleet."""
    up.report = ["downloading", seq, 0]
    raw = fs.read(fs.MANIFEST)
    m = ota_verify.manifest(raw, up.slot) if raw else None
    if m is None or m.get(fs.M_SEQ) != seq:
        fs.remove(fs.MANIFEST, fs.BUNDLE)  # progress for another release is worth nothing
        buf = bytearray()
        if await _fetch(up, "m", 0, None, buf.extend) is None:
            raise OSError("no answer from the fleet")
        if len(buf) > _MANIFEST_MAX:
            raise fs.Refused("manifest")
        m = ota_verify.manifest(bytes(buf), up.slot)
        if m is None:
            raise fs.Refused("manifest")
        fs.write(fs.MANIFEST, buf)
    if m.get(fs.M_COMPONENT) == "micropython":
        from hub import ota_image  # the image path loads only for an image

        ota_image.check(m, seq, up.slot)
    else:
        ota_verify.check(m, seq, up.slot)
    return m


async def bundle(up, m):
    """ota.bin whole and as m signs it, fetching only the blocks not yet on flash (for an
    image: the next OTA partition, hub.ota_image)."""
    if m.get(fs.M_COMPONENT) == "micropython":
        from hub import ota_image

        await ota_image.download(up, m)
        return
    size = m[fs.M_SIZE]
    have = fs.size(fs.BUNDLE)
    if have > size:
        fs.remove(fs.BUNDLE)
        have = -1
    if have < size:
        num = max(have, 0) // fs.BLOCK
        f = open(fs.BUNDLE, "r+b" if have >= 0 else "wb")
        try:
            f.seek(num * fs.BLOCK)

            def out(data):
                f.write(data)
                f.flush()  # LittleFS keeps a block only once synced

            dl = await _fetch(up, "i", num, m[fs.M_DIGEST][:8], out)
        finally:
            f.close()
        if dl is None:
            raise OSError("no answer from the fleet")
        if dl.offset != size:
            fs.remove(fs.BUNDLE)
            raise fs.Refused("size")
    ota_verify.bundle(m)


async def _fetch(up, path, num, etag, out):
    """Block2 GET of `path` from block num, handing each block to out(data); the last
    Block2Download, or None if the fleet stopped answering."""
    req = Message(CON, _GET)
    req.add(options.URI_PATH, path)
    dl = Block2Download(req, _SZX, num, etag)
    fails = 0
    while not dl.done:
        resp = await up.app.send("ota", dl.next_request())  # a live task while it waits
        if resp is None:
            fails += 1
            if fails > _RETRIES:
                return None
            continue
        fails = 0
        out(dl.feed(resp)[1])
        up.report = ["downloading", up.seq, dl.offset]
    return dl
