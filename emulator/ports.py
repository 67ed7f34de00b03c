"""Free local ports for servers started by the emulator and the tests."""

import random
import socket

# Ports are drawn below the kernel's ephemeral range: between our check and the server's
# bind, any client socket on the machine (a database connection, an HTTP request, another
# test run) may be handed an ephemeral port, but never one of these.
_LOW = 10_000
_rng = random.SystemRandom()  # not the global RNG, which tests seed


def _ephemeral_start():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; elsewhere bind(0) below still gives a free port


def _bindable(kind, host, port):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return 0
        return s.getsockname()[1]


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A port nothing listens on now; the caller binds it soon after (and retries if taken)."""
    high = _ephemeral_start()
    for _ in range(50 if high > _LOW else 0):
        port = _bindable(kind, host, _rng.randrange(_LOW, high))
        if port:
            return port
    return _bindable(kind, host, 0)


def free_udp_port(host="127.0.0.1"):
    return free_port(socket.SOCK_DGRAM, host)
