"""Free local ports for servers started by the emulator and the tests."""

import socket


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A port nothing listens on now; the caller binds it soon after (and retries if taken)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_port(host="127.0.0.1"):
    return free_port(socket.SOCK_DGRAM, host)
