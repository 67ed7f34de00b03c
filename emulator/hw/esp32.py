# Stand-in for MicroPython's `esp32`: NVS, kept in emusim.board.nvs (the host keeps that on
# disk beside the flash directory, so it survives resets and power cuts), and the two OTA
# app partitions with the bootloader's rollback (ESP-IDF with rollback enabled).
#
# Partitions live as files in the hub's directory beside flash/ (emusim.board.hub_dir;
# the working directory where the board has none, as on MicroPython): ota_0.bin, ota_1.bin
# (what was written; past their end the flash reads erased, 0xFF) and otadata.json, the
# bootloader's record: which partition to boot and each one's state. States: "valid",
# "new" (set_boot chose it), "pending" (it booted once and was not marked valid),
# "aborted", "invalid" (its image does not check out), "empty".
#
# The bootloader runs once per process (one process is one boot), when the firmware
# first asks for a partition: a "new" image boots once as "pending"; a "pending" one found
# at boot was reset before mark_app_valid_cancel_rollback() and is "aborted", and the
# other partition boots if it is valid. An image is bootable if it parses as an ESP app
# image (magic 0xE9, segments, checksum) and its appended SHA-256 matches, as the
# bootloader's esp_image_verify checks. An emulated image whose first segment holds
# b"crash" stands for firmware that panics soon after it starts: the board resets.
import hashlib
import json
import os

import emusim


class NVS:
    def __init__(self, namespace):
        self._ns = emusim.board.nvs.setdefault(namespace, {})

    def _get(self, key):
        try:
            return self._ns[key]
        except KeyError:
            raise OSError(-4354) from None  # ESP_ERR_NVS_NOT_FOUND

    def set_i32(self, key, value):
        self._ns[key] = int(value)

    def get_i32(self, key):
        return self._get(key)

    def set_blob(self, key, value):
        self._ns[key] = bytes(value)

    def get_blob(self, key, buffer):
        v = self._get(key)
        for i in range(len(v)):
            buffer[i] = v[i]
        return len(v)

    def erase_key(self, key):
        self._get(key)
        del self._ns[key]

    def commit(self):
        emusim.board.nvs_commit()


_LABELS = ("ota_0", "ota_1")
_ADDR = (0x10000, 0x190000)
_SIZE = 0x180000  # as MicroPython's partitions-4MiB-ota.csv
_BLOCK = 4096
_OTADATA = "otadata.json"
_ESP_ERR_OTA_VALIDATE_FAILED = 0x1503
_running = None  # this boot's partition label, once the bootloader ran


def _path(name):
    d = getattr(emusim.board, "hub_dir", None)
    return (str(d) + "/" if d else "") + name


def _load():
    try:
        with open(_path(_OTADATA)) as f:
            return json.load(f)
    except (OSError, ValueError):
        # A chip as flashed by esptool: the factory image in ota_0, booting from it.
        _write_image(0, emulated_image(b"MicroPython emulated 1.24.1"))
        d = {"boot": "ota_0", "state": {"ota_0": "valid", "ota_1": "empty"}}
        _save(d)
        return d


def _save(d):
    # Aside and rename: the otadata sectors are written so that a cut keeps one whole copy.
    tmp = _path(_OTADATA + ".tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(d))
    os.rename(tmp, _path(_OTADATA))


def _read(i, offset, n):
    try:
        with open(_path(_LABELS[i] + ".bin"), "rb") as f:
            f.seek(offset)
            data = f.read(n)
    except OSError:
        data = b""
    return data + b"\xff" * (n - len(data))


def _write_image(i, data, offset=0, erase=True):
    # Erased flash reads 0xFF; programming without an erase can only clear bits.
    if not erase:
        old = _read(i, offset, len(data))
        data = bytes(old[k] & data[k] for k in range(len(data)))
    path = _path(_LABELS[i] + ".bin")
    try:
        f = open(path, "r+b")
    except OSError:
        f = open(path, "wb")
    with f:
        f.seek(0, 2)
        n = f.tell()
        if n < offset:
            f.write(b"\xff" * (offset - n))
        f.seek(offset)
        f.write(data)


def emulated_image(text, size=0):
    """An app image the emulated bootloader accepts: one segment holding text (padded to
    size bytes), the checksum and the appended SHA-256, in the ESP-IDF image layout."""
    seg = bytes(text) + b"\x00" * max(0, size - len(text))
    head = bytes([0xE9, 1, 2, 0]) + b"\x00" * 19 + b"\x01"  # one segment; hash appended
    body = head + (0x3F400020).to_bytes(4, "little") + len(seg).to_bytes(4, "little") + seg
    check = 0xEF
    for b in seg:
        check ^= b
    body += b"\x00" * (15 - len(body) % 16) + bytes([check])
    return body + hashlib.sha256(body).digest()


def _image(i):
    # The first 4 KB of partition i's first segment if it holds a bootable image, else
    # None. Read a block at a time: on MicroPython the stand-in shares the hub's heap.
    head = _read(i, 0, 24)
    if head[0] != 0xE9 or head[23] != 1:
        return None
    h = hashlib.sha256(head)
    pos = 24
    first = None
    check = 0xEF
    for _ in range(head[1]):
        seg = _read(i, pos, 8)
        h.update(seg)
        n = int.from_bytes(seg[4:], "little")
        pos += 8
        if pos + n + 48 > _SIZE:
            return None
        for at in range(0, n, _BLOCK):
            data = _read(i, pos + at, min(_BLOCK, n - at))
            h.update(data)
            for b in data:
                check ^= b
            first = data if first is None else first
        pos += n
    tail = _read(i, pos, 16 - pos % 16)  # padding, the checksum last
    h.update(tail)
    if tail[-1] != check or _read(i, pos + len(tail), 32) != h.digest():
        return None
    return first or b""


def _bootloader():
    global _running
    d = _load()
    state = d["state"]
    label = d["boot"]
    for _ in range(2):
        s = state.get(label)
        if s == "pending":
            state[label] = "aborted"  # reset before the image marked itself valid
        elif s in ("valid", "new"):
            img = _image(_LABELS.index(label))
            if img is not None:
                if s == "new":
                    state[label] = "pending"
                d["boot"] = label
                _save(d)
                _running = label
                if b"crash" in img and emusim.board.has_timers:
                    emusim.board.call_later(300, emusim.board.reset, emusim.HARD_RESET)
                return
            state[label] = "invalid"
        label = _LABELS[1 - _LABELS.index(label)]
    _save(d)
    raise OSError("no bootable app partition: the hub is bricked")


def _boot_label():
    if _running is None:
        _bootloader()
    return _running


class Partition:
    BOOT = 0
    RUNNING = 1
    TYPE_APP = 0
    TYPE_DATA = 1

    def __init__(self, id):  # noqa: A002 (MicroPython's name)
        if id == Partition.RUNNING:
            id = _boot_label()
        elif id == Partition.BOOT:
            _boot_label()
            id = _load()["boot"]
        if id not in _LABELS:
            raise ValueError("partition not found")
        self._i = _LABELS.index(id)

    @staticmethod
    def find(type=TYPE_APP, subtype=0xFF, label=None, block_size=4096):  # noqa: A002
        if type != Partition.TYPE_APP:
            return []
        return [Partition(x) for x in _LABELS if label in (None, x)]

    def info(self):
        return (0, 0x10 + self._i, _ADDR[self._i], _SIZE, _LABELS[self._i], False)

    def readblocks(self, block_num, buf, offset=0):
        data = _read(self._i, block_num * _BLOCK + offset, len(buf))
        buf[: len(data)] = data

    def writeblocks(self, block_num, buf, offset=None):
        # Without an offset the blocks are erased first, as MicroPython's port does.
        at = block_num * _BLOCK + (offset or 0)
        if at + len(buf) > _SIZE:
            raise OSError(22)
        _write_image(self._i, buf, at, offset is None)

    def ioctl(self, cmd, arg):
        if cmd == 4:
            return _SIZE // _BLOCK
        if cmd == 5:
            return _BLOCK
        if cmd == 6:
            _write_image(self._i, b"\xff" * _BLOCK, arg * _BLOCK)
            return 0
        return None

    def set_boot(self):
        if _image(self._i) is None:
            raise OSError(_ESP_ERR_OTA_VALIDATE_FAILED)
        d = _load()
        d["boot"] = _LABELS[self._i]
        d["state"][_LABELS[self._i]] = "new"
        _save(d)

    def get_next_update(self):
        return Partition(_LABELS[1 - self._i])

    @staticmethod
    def mark_app_valid_cancel_rollback():
        d = _load()
        d["state"][_boot_label()] = "valid"
        _save(d)

    def __eq__(self, other):
        return isinstance(other, Partition) and other._i == self._i
