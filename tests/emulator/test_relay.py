"""The impairment relay: the faults it injects, in the proportions asked, repeatably."""

import asyncio

from emulator.relay import Impairment, Relay

N = 2000


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class _Sink(asyncio.DatagramProtocol):
    def __init__(self):
        self.got = []

    def datagram_received(self, data, addr):
        self.got.append(int(data))


async def _run(imp, seed, gap=0.0):
    loop = asyncio.get_running_loop()
    echo, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
    relay = Relay(echo.get_extra_info("sockname"), imp, seed=seed)
    addr = await relay.start()
    hub, sink = await loop.create_datagram_endpoint(_Sink, local_addr=("127.0.0.1", 0))
    for i in range(N):
        hub.sendto(b"%d" % i, addr)
        await asyncio.sleep(gap)
    await asyncio.sleep(0.2)
    hub.close()
    relay.close()
    echo.close()
    return sink.got, relay.stats


async def test_loss_applies_each_way_in_proportion():
    got, stats = await _run(Impairment(loss=0.1), seed=1)
    assert 0.08 < stats["up_lost"] / N < 0.12
    assert 0.08 < stats["down_lost"] / stats["down_in"] < 0.12
    assert len(got) == stats["down_out"]  # all else arrives
    assert 0.77 < len(got) / N < 0.85  # 0.9 * 0.9 round trip


async def test_duplicates_arrive_twice():
    got, stats = await _run(Impairment(dup=0.05), seed=2)
    extra = len(got) - len(set(got))
    assert set(got) == set(range(N))
    assert extra == stats["up_dup"] + stats["down_dup"]
    assert 0.07 < extra / N < 0.13  # about 5 % each way


async def test_reordering_delivers_everything_out_of_order():
    got, stats = await _run(Impairment(delay=0.002, reorder=0.1), seed=3)
    assert sorted(got) == list(range(N))
    assert got != sorted(got)
    assert stats["up_reordered"] > 0.05 * N


async def test_outage_drops_everything_in_its_window():
    got, stats = await _run(Impairment(outages=[(0.05, 0.15)]), seed=4, gap=0.0001)
    lost = set(range(N)) - set(got)
    # The window drops both ways: a datagram that got through just before it may lose its
    # echo inside it (how many depends on when this loop runs, so count both directions).
    assert stats["up_outage"] + stats["down_outage"] == len(lost)
    assert stats["up_outage"] > 0 and stats["down_lost"] == stats["up_lost"] == 0
    # What is lost is one contiguous run: the datagrams sent during the outage.
    assert max(lost) - min(lost) + 1 == len(lost)


async def test_same_seed_same_faults():
    a = await _run(Impairment(loss=0.2, dup=0.1), seed=7)
    b = await _run(Impairment(loss=0.2, dup=0.1), seed=7)
    assert sorted(a[0]) == sorted(b[0])
    assert a[1] == b[1]
