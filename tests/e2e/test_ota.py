"""Over-the-air updates end to end: an emulated hub (its own process, real time, real UDP
and OSCORE) is offered releases built and signed by tools/release.py through the
stand-in fleet's heartbeat replies, and pulls them with Block2 through the relay.

Hubs here use ACK_TIMEOUT 50 ms (30 ms under loss; identity key "ack") and 2 s
heartbeats, so what takes minutes at the normal timers takes seconds; the releases are emulator builds
(`cpython-linux`: sources, as the CPython hub cannot load .mpy)."""

import asyncio
import random
import shutil
import time

import pytest

from emulator.relay import Impairment, Relay
from emulator.standin_fleet import StandinFleet, write_identity
from emulator.supervisor import RESET_EXIT_BASE, Hub, provision
from protocol import cbor
from tests.e2e.conftest import DEBOUNCE_S, HUB, SENSORS
from tests.mpy import ROOT
from tools import release

HW = "cpython-linux"


@pytest.fixture(scope="module")
def key():
    return release._ed25519().Ed25519PrivateKey.generate()


def variant(tmp_path, name, replace):
    """A copy of firmware/ with some files replaced: a broken build."""
    fw = tmp_path / name
    shutil.copytree(ROOT / "firmware", fw, ignore=shutil.ignore_patterns("__pycache__"))
    for path, text in replace.items():
        (fw / path).write_text(text)
    return fw


class OtaWorld:
    def __init__(self, fleet, relay, hub):
        self.fleet = fleet
        self.relay = relay
        self.hub = hub
        self.resets = []  # time.monotonic() of each reset the hub did by itself
        self._keeper = asyncio.ensure_future(self._keep_running())

    async def _keep_running(self):
        # What a hub's power supply does: after a reset, the chip starts again.
        while True:
            await asyncio.sleep(0.02)
            code = self.hub.proc.poll()
            if code is not None and code > RESET_EXIT_BASE:
                self.resets.append(time.monotonic())
                self.hub.start(code - RESET_EXIT_BASE)

    def beats(self):
        return [(b, t) for _, b, t in self.fleet.heartbeats]

    async def until_beat(self, predicate, timeout, what):
        def found():
            return [t for b, t in self.beats() if predicate(b)]

        v = await self.fleet.wait_for(found, timeout)
        assert v, f"timed out waiting for {what}; console:\n{self.hub.console()[-4000:]}"
        return v[0]

    def gets(self, path):
        return [n for _, p, n in self.fleet.ota_gets if p == path]

    async def close(self):
        self._keeper.cancel()
        self.hub.power_cut()
        self.relay.close()
        await self.fleet.stop()


@pytest.fixture
async def make_world(tmp_path, key):
    worlds = []

    async def make(loss=0.0, ack=50):
        fleet = StandinFleet(tmp_path / "fleet")
        port = await fleet.start()
        relay = Relay(("127.0.0.1", port), Impairment(loss=loss), seed=7)
        _, relay_port = await relay.start()
        hub_dir = provision(
            tmp_path / "hub", wlan={"ssid": "portineria", "key": "", "assoc_ms": 100}
        )
        write_identity(hub_dir / "flash", fleet.enrol(HUB, port=relay_port, ack=ack))
        trusted = release.trusted_keys([release.public_bytes(key)])
        (hub_dir / "flash" / "ota.keys").write_bytes(trusted)  # as provisioning does
        fleet.set_config(HUB, SENSORS, hb=2, rd=300)
        hub = Hub(hub_dir, real_time=True)
        hub.start()
        w = OtaWorld(fleet, relay, hub)
        worlds.append(w)
        await w.until_beat(lambda b: b[5] == "0.1.0", 30, "the first heartbeat")
        return w

    yield make
    for w in worlds:
        await w.close()


async def test_signed_update_through_20_percent_loss(make_world, key):
    w = await make_world(loss=0.2, ack=30)
    good, bundle, _ = release.build(key, "0.2.0", 4, HW, trial=(2, 60))
    # First a forged manifest (its payload changed after signing): refused, reported.
    tag = cbor.loads(good)
    m = cbor.loads(tag.value[2])
    m[release.M_SEQ] = 3
    tag.value[2] = cbor.dumps(m)
    w.fleet.offer(HUB, cbor.dumps(tag), bundle)
    await w.until_beat(lambda b: b.get(9) == ["refused", 3, "signature"], 20, "the refusal")
    assert w.gets("i") == [] and w.resets == []  # nothing of the bundle was fetched

    t_offer = time.monotonic()
    w.fleet.offer(HUB, good, bundle)
    t_new = await w.until_beat(lambda b: b[5] == "0.2.0", 120, "the new version")
    await w.until_beat(lambda b: b.get(9) == ["updated", 4, "0.2.0"], 30, "the confirmation")
    assert len(w.resets) == 1  # one reset: into the new copy, which stayed
    blocks = (len(bundle) + 1023) // 1024
    assert sorted(set(w.gets("i"))) == list(range(blocks))
    assert w.relay.stats["up_lost"] + w.relay.stats["down_lost"] > 50
    flash = w.hub.dir / "flash"
    assert (flash / "ota.state").read_text() == "app0 . ok"
    assert (flash / "app0" / "hub" / "version.py").read_text().endswith("'0.2.0'\n")
    print(
        f"\nbundle {len(bundle)} B, {blocks} blocks, {len(w.gets('i'))} block requests; "
        f"offer to reset {w.resets[0] - t_offer:.1f} s; reset to first heartbeat of the "
        f"new version {t_new - w.resets[0]:.1f} s; relay {dict(w.relay.stats)}"
    )


async def test_release_that_fails_at_import_rolls_back_and_is_reported(make_world, key, tmp_path):
    w = await make_world()
    fw = variant(tmp_path, "broken", {"hub/app.py": 'raise RuntimeError("broken build")\n'})
    cose, bundle, _ = release.build(key, "0.3.0", 3, HW, firmware=fw, trial=(1, 60))
    w.fleet.offer(HUB, cose, bundle)
    await w.until_beat(lambda b: b.get(9) == ["rolled back", 3, "0.3.0"], 40, "the rollback")
    assert len(w.resets) == 2  # into the new copy; out of it after its crash
    assert "broken build" in (w.hub.dir / "flash" / "crash.log").read_text()
    assert all(b[5] == "0.1.0" for b, _ in w.beats())  # the broken copy never beat
    gets = len(w.fleet.ota_gets)
    await asyncio.sleep(3)  # still offered at each heartbeat: not fetched again
    assert len(w.fleet.ota_gets) == gets and len(w.resets) == 2


async def test_release_that_never_confirms_rolls_back(make_world, key, tmp_path):
    w = await make_world()
    # A build whose wired sensors cannot be read: its later definition wins.
    broken = (ROOT / "firmware/hub/sensors.py").read_text() + (
        '\n\nasync def wired(app, sensors):\n    raise OSError("sensor bus broken")\n'
    )
    fw = variant(tmp_path, "deaf", {"hub/sensors.py": broken})
    cose, bundle, _ = release.build(key, "0.3.1", 5, HW, firmware=fw, trial=(1, 5))
    w.fleet.offer(HUB, cose, bundle)
    await w.until_beat(lambda b: b[5] == "0.3.1", 30, "the trial copy's heartbeat")
    await w.until_beat(lambda b: b.get(9) == ["rolled back", 5, "0.3.1"], 30, "the rollback")
    assert len(w.resets) == 2
    console = w.hub.console()
    assert "not confirmed in 5 s" in console and "sensor bus broken" in console
    assert w.beats()[-1][0][5] == "0.1.0"


async def test_power_cuts_resume_and_end_on_the_new_version(make_world, key):
    w = await make_world()
    cose, bundle, _ = release.build(key, "0.2.0", 2, HW, trial=(3, 60))
    blocks = (len(bundle) + 1023) // 1024
    w.fleet.offer(HUB, cose, bundle)
    # A panic while the bundle streams in goes out between two blocks, not after them:
    # counted in blocks, which a busy machine slows as much as the panic, and timed from
    # the hub's own pin (not our message to it).
    await w.fleet.wait_for(lambda: len(w.gets("i")) >= blocks // 8, 30)
    w.hub.send("press_panic")
    assert await w.fleet.wait_for(lambda: w.fleet.events(HUB, "panic"), 5)
    arrived = w.fleet.arrival(HUB, w.fleet.events(HUB, "panic")[0][0])
    debounced = w.hub.acted("press_panic")[0] + DEBOUNCE_S
    between = sum(debounced < t < arrived for t in w.fleet.ota_got_at)
    print(f"\npanic during the download: {(arrived - debounced) * 1000:.0f} ms after debounce, "
          f"{between} of {blocks} blocks served meanwhile")  # fmt: skip
    # The block in flight at the debounce, the fetcher's next if it reached the uplink's
    # lock first, one or two while the hub's debounce timer waits behind block work on its
    # loop (1-3 seen, at rest and on busy cores): a handful, not the 150-odd still to come.
    assert between < 8 and len(w.gets("i")) < blocks // 2, between
    # The 100 ms budget is judged on an idle hub (test_hub_fleet); here one press on a hub
    # busy downloading, which 2 busy cores stretched to 220 ms: waiting for the next
    # heartbeat (2 s) or the download's end would still fail.
    assert arrived - debounced < 0.5
    # A cut during the download; the hub comes back and fetches only what is missing.
    await w.fleet.wait_for(lambda: len(w.gets("i")) >= blocks // 2, 30)
    w.hub.power_cut()
    before = list(w.gets("i"))
    await asyncio.sleep(0.3)
    w.hub.start()
    # Then cuts at seeded random moments of the rest: download, installation, first boot.
    rng = random.Random(3)
    for _ in range(3):
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        w.hub.power_cut()
        await asyncio.sleep(0.2)
        w.hub.start()
    await w.until_beat(lambda b: b.get(9) == ["updated", 2, "0.2.0"], 60, "the update")
    after = w.gets("i")[len(before) :]
    assert before == list(range(len(before)))
    # The resumed download starts where the flash says it stopped (the block in flight at
    # the cut may come twice) and asks for each later block once.
    assert set(before) | set(after) == set(range(blocks))
    assert len(before) + len(after) <= blocks + 4  # at most one repeat per cut
    assert len(w.gets("m")) <= 2 * 4  # the saved manifest is not fetched again
    assert (w.hub.dir / "flash" / "ota.state").read_text() == "app0 . ok"


async def test_an_undelivered_emergency_holds_the_install_until_delivered(make_world, key):
    w = await make_world()
    cose, bundle, _ = release.build(key, "0.2.0", 2, HW, trial=(2, 60))
    w.fleet.refusing.add(HUB)  # the fleet takes no telemetry for now
    w.fleet.offer(HUB, cose, bundle)
    await w.fleet.wait_for(lambda: w.gets("i"), 20)
    w.hub.send("press_panic")  # queued on flash, undelivered: heartbeat key 10 says 1
    await w.until_beat(lambda b: b.get(9) == ["downloaded", 2, "0.2.0"] and b[10] == 1, 30,
                       "the verified bundle, held")  # fmt: skip
    n = len(w.beats())
    await w.fleet.wait_for(lambda: len(w.beats()) >= n + 2, 10)  # two more replies, no go
    assert w.resets == [] and not (w.hub.dir / "flash" / "ota.state").exists()
    w.fleet.refusing.discard(HUB)
    assert await w.fleet.wait_for(lambda: w.fleet.events(HUB, "panic"), 30)
    await w.until_beat(lambda b: b.get(9) == ["updated", 2, "0.2.0"], 60, "the update")
    assert len(w.resets) == 1
