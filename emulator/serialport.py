"""An emulated hub's serial port: the board side of a pseudo-terminal speaking MicroPython's
REPL, friendly and raw (with raw-paste), well enough for the real `mpremote`.

The pty is made by whoever owns the hub (supervisor.Hub), so it outlives resets as a
USB-UART bridge does; the hub process gets the master fd. Console output (print, logs,
tracebacks) goes to the pty as well as to console.log, with "\\n" sent as "\\r\\n".

Bytes are read by a thread. Ctrl-C while the application or a command runs interrupts
the main thread (SIGINT, so a blocking select wakes up); every other byte waits in a
queue until the main thread sits in the REPL (`serve()`), as a real board reads stdin
only there. Code runs in the main thread with one persistent namespace, an `os` and
`open` that see the flash as `/`, and errors printed the way MicroPython prints them
(mpremote recognises "OSError: [Errno 2] ENOENT"). A soft reboot (Ctrl-D) re-executes
the hub process in place: same pid, same pty, fresh interpreter, as a soft reset clears
MicroPython's heap; from the raw REPL it comes back to the raw REPL without main.py.
"""

import builtins
import contextlib
import errno
import os
import queue
import select
import signal
import sys
import threading
import traceback

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER = (
    b"MicroPython v1.24.1 on 2024-11-29; Portineria emulated hub with ESP32\r\n"
    b'Type "help()" for more information.\r\n'
)
PASTE_WINDOW = 128  # bytes the host may send before waiting for \x01 (raw-paste mode)
_CTRL_A, _CTRL_B, _CTRL_C, _CTRL_D, _CTRL_E = 1, 2, 3, 4, 5


class Port:
    """The board's end of the pty: writes never block (with no one listening, output is
    lost as on a real UART), reads wait."""

    def __init__(self, fd):
        self.fd = fd
        os.set_blocking(fd, False)

    def write(self, data):
        while data:
            try:
                n = os.write(self.fd, data)
            except BlockingIOError:
                return  # the host is not reading: drop, as a UART would
            except OSError:
                return
            data = data[n:]

    def read(self):
        while True:
            select.select([self.fd], [], [])
            try:
                data = os.read(self.fd, 512)
            except BlockingIOError:
                continue
            except OSError:  # no one has the other end open
                threading.Event().wait(0.05)
                continue
            if data:
                return data


class _Console:
    """sys.stdout / sys.stderr: the original stream (console.log) and the pty."""

    def __init__(self, stream, port):
        self.stream = stream
        self.port = port
        self.to_log = True

    def write(self, text):
        if self.to_log:
            self.stream.write(text)
            self.stream.flush()
        self.port.write(text.replace("\n", "\r\n").encode("utf-8", "replace"))
        return len(text)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _hub_os(root):
    """An `os` for code typed at the REPL: MicroPython's extras, and paths from `/` mapped
    onto the flash directory (the firmware itself only uses relative paths)."""
    import types

    hub = types.ModuleType("os")
    hub.__dict__.update({k: getattr(os, k) for k in dir(os) if not k.startswith("_")})

    def real(path=""):
        path = os.fspath(path) if path != "" else "."
        return root + path if path.startswith("/") else path

    def ilistdir(path=""):
        p = real(path)
        for name in sorted(os.listdir(p)):
            st = os.stat(os.path.join(p, name))
            yield (name, 0x4000 if os.path.isdir(os.path.join(p, name)) else 0x8000, 0, st.st_size)

    def getcwd():
        rel = os.path.relpath(os.path.realpath(os.getcwd()), root)
        return "/" if rel == "." else "/" + rel

    hub.ilistdir = ilistdir
    hub.getcwd = getcwd
    hub.listdir = lambda path="": sorted(os.listdir(real(path)))
    hub.stat = lambda p: tuple(os.stat(real(p)))[:10]
    hub.statvfs = lambda p: os.statvfs(real(p) if p != "/" else "/")
    for name in ("remove", "rmdir", "mkdir", "chdir"):
        hub.__dict__[name] = (lambda f: lambda p: f(real(p)))(getattr(os, name))
    hub.rename = lambda a, b: os.rename(real(a), real(b))
    hub.sync = lambda: None
    hub.uname = lambda: ("esp32", "esp32", "1.24.1", "v1.24.1", "emulated ESP32 module")
    hub.real = real
    return hub


def _mp_error(exc):
    """The last lines MicroPython prints for exc."""
    name = type(exc).__name__
    if isinstance(exc, OSError):
        code = exc.errno or 0
        return f"OSError: [Errno {code}] {errno.errorcode.get(code, code)}"
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt: "
    return f"{name}: {exc}" if str(exc) else name


class SerialREPL:
    def __init__(self, fd, root):
        self.port = Port(fd)
        self.root = os.path.realpath(root)
        self.inbox = queue.SimpleQueue()
        # "boot" until the app starts, "run" while the app or a command runs, then "repl".
        # A Ctrl-C during boot (the host was quicker than our start-up) stops the app as
        # soon as it would start, as it would have stopped it on a board already running.
        self._state = "boot"
        self._break = False
        self._lock = threading.Lock()
        self.namespace = {"__name__": "__main__"}
        self.os = _hub_os(self.root)
        sys.stdout = _Console(sys.stdout, self.port)
        sys.stderr = _Console(sys.stderr, self.port)
        signal.signal(signal.SIGINT, self._sigint)
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            for b in self.port.read():
                with self._lock:
                    if b == _CTRL_C and self._state == "run":
                        os.kill(os.getpid(), signal.SIGINT)
                    elif b == _CTRL_C and self._state == "boot":
                        self._break = True
                    else:
                        self.inbox.put(b)

    def _sigint(self, signum, frame):
        # A Ctrl-C that lands after the code it was meant for has finished is dropped.
        if self._state == "run":
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def running(self):
        """Context for the application's or a command's run: Ctrl-C interrupts it."""
        with self._lock:
            if self._break:
                self._break = False
                raise KeyboardInterrupt
            self._state = "run"
        try:
            yield
        finally:
            with self._lock:
                self._state = "repl"

    def _get(self):
        return self.inbox.get()

    # --- running code -----------------------------------------------------------------

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if name in ("os", "uos") and level == 0:
            return self.os
        return builtins.__import__(name, globals, locals, fromlist, level)

    def _open(self, file, *args, **kw):
        if isinstance(file, str):
            file = self.os.real(file)
        return builtins.open(file, *args, **kw)

    def execute(self, source, raw):
        """Run source at the REPL; in raw mode, output \\x04 errors \\x04 as MicroPython."""
        own = dict(vars(builtins), __import__=self._import, open=self._open)
        self.namespace["__builtins__"] = own
        out, err = sys.stdout, sys.stderr
        out.to_log = err.to_log = False  # a command's output is the host's, not a log line
        error = None
        with self.running():
            try:
                exec(compile(source, "<stdin>", "exec" if raw else "single"), self.namespace)
            except SystemExit:
                pass
            except BaseException as e:  # the REPL reports everything, Ctrl-C included
                error = e
        out.flush()
        out.to_log = err.to_log = True
        if raw:
            self.port.write(b"\x04")
        if error is not None:
            tb = traceback.extract_tb(error.__traceback__)
            lines = ["Traceback (most recent call last):"]
            lines += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in tb[1:]]
            text = "\r\n".join([*lines, _mp_error(error)]) + "\r\n"
            self.port.write(text.encode("utf-8", "replace"))
        if raw:
            self.port.write(b"\x04")

    # --- the REPL itself --------------------------------------------------------------

    def serve(self, raw=False, reboot=None):
        """The REPL, forever, in the main thread. reboot(raw) re-executes the hub."""
        if raw:
            self.port.write(RAW_BANNER + b">")
        else:
            self.port.write(FRIENDLY_BANNER + b">>> ")
        while True:
            raw = self._raw(reboot) if raw else self._friendly(reboot)

    def _friendly(self, reboot):
        line = bytearray()
        while True:
            b = self._get()
            if b == _CTRL_A:
                self.port.write(b"\r\n" + RAW_BANNER + b">")
                return True
            if b == _CTRL_D and not line:
                self.port.write(b"MPY: soft reboot\r\n")
                reboot(False)
            if b == _CTRL_C:
                self.port.write(b"\r\nKeyboardInterrupt\r\n>>> ")
                line.clear()
            elif b in (10, 13):
                self.port.write(b"\r\n")
                if line.strip():
                    self.execute(line.decode("utf-8", "replace"), raw=False)
                self.port.write(b">>> ")
                line.clear()
            elif b in (8, 127):
                if line:
                    line.pop()
                    self.port.write(b"\x08 \x08")
            elif b >= 32:
                line.append(b)
                self.port.write(bytes([b]))

    def _raw(self, reboot):
        line = bytearray()
        while True:
            b = self._get()
            if b == _CTRL_A:
                self.port.write(RAW_BANNER + b">")
                line.clear()
            elif b == _CTRL_B:
                self.port.write(b"\r\n" + FRIENDLY_BANNER + b">>> ")
                return False
            elif b == _CTRL_C:
                line.clear()
            elif b == _CTRL_E and not line:
                self._paste(reboot)
            elif b == _CTRL_D:
                self.port.write(b"OK")
                if not line:
                    self.port.write(b"\r\nMPY: soft reboot\r\n")
                    reboot(True)
                self.execute(bytes(line).decode("utf-8", "replace"), raw=True)
                self.port.write(b">")
                line.clear()
            else:
                line.append(b)

    def _paste(self, reboot):
        # The host asks with \x05 'A' \x01; we answer "R\x01" and the window size, then
        # grant another window each time one has been read; \x04 ends the code.
        if self._get() != ord("A") or self._get() != _CTRL_A:
            self.port.write(b"R\x00")
            return
        self.port.write(b"R\x01" + PASTE_WINDOW.to_bytes(2, "little"))
        code = bytearray()
        left = PASTE_WINDOW
        while True:
            b = self._get()
            if b == _CTRL_C:  # the host gave up half-way: drop what came
                self.port.write(b"\x04>")
                return
            if b == _CTRL_D:
                break
            code.append(b)
            left -= 1
            if left == 0:
                left = PASTE_WINDOW
                self.port.write(b"\x01")
        self.port.write(b"\x04")
        self.execute(bytes(code).decode("utf-8", "replace"), raw=True)
        self.port.write(b">")
