# hub/uplink.py waits for a datagram or its next retransmission instead of polling, on
# MicroPython and CPython alike: a request to a fleet that never answers wakes the task
# only at its retransmission times; a reply is read at once; a lost request is answered
# after one ACK_TIMEOUT. argv[1]: two free UDP ports "silent,mini". Prints FIG lines and OK.
import asyncio
import socket
import sys
import time

from hub import identity
from hub.uplink import Uplink
from minifleet import MiniFleet

from protocol import codes

SECRET = bytes(range(16))
SALT = b"\x01\x02\x03\x04\x05\x06\x07\x08"


class NoStore:
    # Sequence numbers in RAM: this check writes nothing to the working directory.
    def load(self):
        return None

    def save(self, n):
        pass


def uplink(port):
    fields = {"v": 1, "hub": "hub-w", "sid": b"\x07", "ms": SECRET, "salt": SALT,
              "host": "127.0.0.1", "port": port, "ssid": "x", "wkey": "", "ack": 50}  # fmt: skip
    up = Uplink(identity.Identity(identity.check(fields)), storage=NoStore())
    wakes = [0]

    def beat():
        wakes[0] += 1

    up.beat = beat
    return up, wakes


async def silent(port):
    # Bound but never read: no answer and no ICMP error, only the retransmissions.
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    up, wakes = uplink(port)
    t0 = time.ticks_ms()
    assert await up.request(codes.POST, "hb", b"\xa0") is None
    ms = time.ticks_diff(time.ticks_ms(), t0)
    sink.close()
    print("FIG silent_ms", ms)
    print("FIG silent_wakes", wakes[0])
    # ACK_TIMEOUT 50 ms, 4 retransmissions: 31 x 50-75 ms. A 2 ms poll woke ~800 times.
    assert 1500 <= ms < 2600, ms
    assert wakes[0] <= 8, wakes[0]


async def answered(port):
    mini = MiniFleet(SECRET, SALT, b"\x07", port)
    task = asyncio.create_task(mini.run())
    up, wakes = uplink(port)
    t0 = time.ticks_ms()
    assert (await up.request(codes.POST, "hb", b"\xa0")).code == codes.CHANGED
    fast = time.ticks_diff(time.ticks_ms(), t0)
    mini.drop = 1  # the first copy is lost: the retransmission is answered
    t0 = time.ticks_ms()
    assert (await up.request(codes.POST, "hb", b"\xa0")).code == codes.CHANGED
    lost = time.ticks_diff(time.ticks_ms(), t0)
    task.cancel()
    mini.sock.close()
    print("FIG reply_ms", fast)
    print("FIG lost_reply_ms", lost)
    print("FIG answered_wakes", wakes[0])
    assert fast < 30, fast
    assert 50 <= lost < 120, lost
    assert wakes[0] <= 4, wakes[0]


async def main(ports):
    silent_port, mini_port = [int(p) for p in ports.split(",")]
    await silent(silent_port)
    await answered(mini_port)
    print("OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
