"""`portineria deploy`: put the application, its configuration and the hub's identity on a
hub over its USB serial port (mpremote's raw REPL), check every file's SHA-256 on the hub,
reset it.

Never half-installed: the hub gets `deploy.pending` first; each file goes to `PATH.new`
and is hashed there; only when every staged file is whole are they renamed into place
(one command on the hub, milliseconds), stale files removed, everything hashed again,
`deploy.json` (the manifest: version and every file's hash) written aside and renamed,
and `deploy.pending` removed last. A deploy that finds `deploy.pending` says so and
finishes the job; staged or installed files that already match are not sent again, so a
repeat is quick.

The app is built by tools/release.collect: `.mpy` from mpy-cross for a MicroPython hub,
source for an emulated (CPython) one; the hub is asked which it is. Beside it goes its
ROMFS record (tools/romfs.RECORD), so that boot.py mounts the code from the partition
without hashing it; boot.py ignores it while `deploy.pending` is there.
"""

import ast
import contextlib
import hashlib
import io
import json
import sys
from pathlib import Path

from tools import release, romfs
from tools.errors import ToolError

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "deploy.json"
PENDING = "deploy.pending"
STAGED = ".new"
CHUNK = 512  # bytes per write command: small enough for the ESP32's raw REPL buffer
_FIXED = ("boot.py", "main.py")  # the boot path, from firmware/ as source
_OTA = ("ota.state", "ota.rollback")  # a cable deploy puts the app back at the root
_DATA = ("identity.cbor", "config.cbor", "ota.keys")  # kept unless replaced


DeviceError = ToolError  # the hub or the link failed in a way the technician can act on


# Runs on the hub (MicroPython or the emulator): SHA-256 of each path, None if missing.
_HASHES = """
import hashlib, binascii
def _h(p, b=bytearray(512)):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    h = hashlib.sha256()
    while True:
        n = f.readinto(b)
        if not n:
            break
        h.update(memoryview(b)[:n])
    f.close()
    return binascii.hexlify(h.digest()).decode()
print(repr([_h(p) for p in %r]))
"""

# What the hub runs, whether a deploy was cut short, and the last deploy's manifest.
_STATE = """
import sys, os
try:
    m = open(%r).read()
except OSError:
    m = None
try:
    p = open(%r).read()
except OSError:
    p = None
print(repr((sys.implementation.name, p, m)))
"""

_MKDIRS = """
import os
for d in %r:
    try:
        os.mkdir(d)
    except OSError:
        pass
"""

# Renames are atomic on LittleFS; FAT refuses to rename onto a file, hence the remove.
_INSTALL = """
import os
def _rm(p):
    try:
        os.remove(p)
    except OSError:
        pass
for p in %r:
    try:
        os.rename(p + %r, p)
    except OSError:
        _rm(p)
        os.rename(p + %r, p)
for p in %r:
    _rm(p)
"""


class Link:
    """A hub's raw REPL through mpremote's serial transport."""

    def __init__(self, port, baud=115200):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self._error = TransportError
        try:
            # A read timeout: on a pty mpremote otherwise blocks for good on a silent hub.
            self.t = SerialTransport(port, baudrate=baud, timeout=1)
        except TransportError:
            raise DeviceError(f"cannot open {port}: is the hub plugged in and free?") from None
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # mpremote prints what it got
                self.t.enter_raw_repl(soft_reset=True, timeout_overall=10)
        except TransportError:
            self.t.close()
            raise DeviceError(f"no MicroPython REPL answers on {port}") from None

    def run(self, code):
        """Run code on the hub; its output as text, or DeviceError with its last line."""
        from mpremote.transport import TransportExecError

        try:
            return self.t.exec(code).decode("utf-8", "replace")
        except TransportExecError as e:
            last = (e.error_output.strip().splitlines() or ["an error"])[-1]
            raise DeviceError(f"the hub answered: {last}") from None
        except (self._error, OSError) as e:
            raise DeviceError(f"the serial link failed: {e}") from None

    def value(self, code):
        """The Python literal code prints on the hub."""
        try:
            return ast.literal_eval(self.run(code).strip())
        except (ValueError, SyntaxError):
            raise DeviceError("the hub's answer was garbled; check the cable") from None

    def write(self, path, data):
        try:
            self.t.fs_writefile(path, data, chunk_size=CHUNK)
        except self._error as e:
            raise DeviceError(f"writing {path} failed: {e}") from None

    def hashes(self, paths):
        return self.value(_HASHES % (list(paths),)) if paths else []

    def reset(self):
        """Hard-reset the hub; it does not answer, so nothing is read back."""
        self.t.exec_raw_no_follow("import machine\nmachine.reset()")

    def close_into_app(self):
        """Leave the raw REPL and soft-reboot, so the hub runs its application again."""
        try:
            self.t.serial.write(b"\r\x02\x04")
            self.t.in_raw_repl = False
        except OSError:
            pass
        self.close()

    def close(self):
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
        except OSError:
            pass
        self.t.close()


def source_version(firmware=None):
    """VERSION from firmware/hub/version.py."""
    text = (Path(firmware or ROOT / "firmware") / "hub" / "version.py").read_text()
    return ast.literal_eval(text.split("VERSION =", 1)[1].strip().splitlines()[0])


def app_files(implementation, version, firmware=None, protocol=None):
    """{path on the hub: bytes} of the application for a hub running `implementation`."""
    firmware = Path(firmware or ROOT / "firmware")
    hw = "micropython-esp32" if implementation == "micropython" else "cpython-linux"
    try:
        files = release.collect(firmware, protocol or ROOT / "protocol", hw, version)
    except release.ReleaseError as e:
        raise DeviceError(str(e)) from None
    for name in _FIXED:
        files[name] = (firmware / name).read_bytes()
    files[romfs.RECORD] = romfs.slot_record(files).encode()
    return files


def _twins(path):
    # A stale hub/x.py would shadow a new hub/x.mpy (MicroPython tries .py first).
    if path.endswith(".mpy"):
        return [path[:-4] + ".py"]
    if path.endswith(".py") and path not in _FIXED:
        return [path[:-3] + ".mpy"]
    return []


def _progress(quiet):
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=console,
        transient=True,
        disable=quiet or not console.is_terminal,
    )


def deploy(
    port, identity=None, config=None, keys=None, version=None, baud=115200, quiet=False, say=None
):
    """Deploy to the hub on `port`; returns a report dict. say(text) tells progress."""
    say = say or (lambda text: None)
    extra = {}
    for name, src in zip(_DATA, (identity, config, keys), strict=True):
        if src is not None:
            try:
                extra[name] = Path(src).read_bytes()
            except OSError as e:
                raise DeviceError(f"cannot read {src}: {e.strerror}") from None
    link = Link(port, baud)
    try:
        return _deploy(link, extra, version, quiet, say)
    finally:
        link.close()


def put(port, files, baud=115200, quiet=False):
    """Write {path: bytes} (the hub's own data: identity.cbor, ota.keys) to the hub on
    `port` as deploy does — staged, hashed, renamed into place, hashed again — then
    soft-reboot it so the app reads them. Returns {path: sha256 hex} as checked."""
    link = Link(port, baud)
    try:
        want = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
        paths = sorted(files)
        with _progress(quiet) as progress:
            task = progress.add_task("writing", total=sum(map(len, files.values())))
            for p in paths:
                link.write(p + STAGED, files[p])
                progress.update(task, advance=len(files[p]), description=p)
        got = link.hashes([p + STAGED for p in paths])
        for p, h in zip(paths, got, strict=True):
            if h != want[p]:
                raise DeviceError(f"{p} arrived damaged on the hub; run the command again")
        link.run(_INSTALL % (paths, STAGED, STAGED, []))
        if link.hashes(paths) != [want[p] for p in paths]:
            raise DeviceError("the hub's files do not match after installing; run it again")
    except BaseException:
        link.close()
        raise
    link.close_into_app()
    return want


def _keep_identity(link, pending, want):
    """No --identity: the hub keeps its own, or the one an interrupted deploy staged."""
    name = "identity.cbor"
    installed, staged = link.hashes([name, name + STAGED])
    if installed is None and staged is not None and pending.get(name) == staged:
        want[name] = staged
    elif installed is None:
        raise DeviceError("the hub has no identity: give --identity FILE (portineria provision)")


def _deploy(link, extra, version, quiet, say):
    impl, pending, old = link.value(_STATE % (MANIFEST, PENDING))
    if pending:
        say("the last deploy to this hub was interrupted: finishing it")
    version = version or source_version()
    files = app_files(impl, version)
    files.update(extra)
    want = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    if "identity.cbor" not in files:
        _keep_identity(link, json.loads(pending) if pending else {}, want)
    paths = sorted(want)
    link.write(PENDING, json.dumps(want, sort_keys=True).encode())
    dirs = sorted({"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)})
    link.run(_MKDIRS % (dirs,))
    have = dict(zip(paths, link.hashes(paths), strict=True))
    todo = [p for p in paths if have[p] != want[p]]
    staged = dict(zip(todo, link.hashes([p + STAGED for p in todo]), strict=True))
    # The hub's own data first: a deploy cut short after it can be finished without it.
    send = sorted((p for p in todo if staged[p] != want[p]), key=lambda p: p not in _DATA)
    with _progress(quiet) as progress:
        task = progress.add_task("copying", total=sum(len(files[p]) for p in send))
        for p in send:
            # A real ESP32 keeps its watchdog running in the REPL once the app started it.
            link.run("import machine\nmachine.WDT(timeout=30000).feed()")
            link.write(p + STAGED, files[p])
            progress.update(task, advance=len(files[p]), description=p)
    got = dict(zip(todo, link.hashes([p + STAGED for p in todo]), strict=True))
    bad = [p for p in todo if got[p] != want[p]]
    if bad:
        raise DeviceError(f"{bad[0]} arrived damaged on the hub; run deploy again")
    old_files = json.loads(old)["files"] if old else {}
    stale = {t for p in paths for t in _twins(p)} | (set(old_files) - set(files))
    stale = sorted(stale - set(files) - set(_DATA)) + list(_OTA)
    stale = [p for p, h in zip(stale, link.hashes(stale), strict=True) if h is not None]
    link.run(_INSTALL % (todo, STAGED, STAGED, stale))
    final = dict(zip(paths, link.hashes(paths), strict=True))
    wrong = [p for p in paths if final[p] != want[p]]
    if wrong:
        raise DeviceError(f"{wrong[0]} does not match after installing; run deploy again")
    manifest = {"version": version, "files": want}
    link.write(MANIFEST + STAGED, json.dumps(manifest, sort_keys=True).encode())
    link.run(_INSTALL % ([MANIFEST], STAGED, STAGED, [PENDING]))
    link.reset()
    return {
        "implementation": impl,
        "version": manifest["version"],
        "files": len(paths),
        "sent": len(send),
        "bytes_sent": sum(len(files[p]) for p in send),
        "removed": stale,
        "repaired": bool(pending),
    }


def main_print(report, as_json):
    if as_json:
        print(json.dumps(report))
        return
    what = "finished an interrupted deploy: " if report["repaired"] else ""
    print(
        f"{what}{report['files']} files on the hub ({report['implementation']}), "
        f"{report['sent']} sent ({report['bytes_sent']} bytes), all hashes match; "
        "hub reset",
        file=sys.stdout,
    )
