"""A world for end-to-end tests: the stand-in fleet, a UDP relay in front of it, and one
emulated hub (its own CPython process, real time) provisioned with an identity whose
fleet address is the relay's, all on 127.0.0.1."""

import asyncio
import time

import pytest

from emulator.relay import Impairment, Relay
from emulator.standin_fleet import StandinFleet, write_identity
from emulator.supervisor import Hub, provision

HUB = "hub-1"
ACK_MS = 100  # CoAP ACK_TIMEOUT for these hubs: an exchange gives up after 3.1-4.7 s
DEBOUNCE_S = 0.030 + 0.004  # hal.Inputs' debounce after the emulator's 4 one-ms bounces
SENSORS = [
    {"id": "panic1", "kind": "panic", "room": "bedroom", "flat": "3A", "pin": 4, "active": 0},
    {"id": "pir1", "kind": "motion", "room": "kitchen", "flat": "3A", "pin": 12, "active": 1},
]
DOOR = {"id": "door1", "kind": "door", "room": "entrance", "flat": "3A", "pin": 5, "active": 1}


class World:
    def __init__(self, fleet, relay, hub):
        self.fleet = fleet
        self.relay = relay
        self.hub = hub

    async def until(self, predicate, timeout, what):
        v = await self.fleet.wait_for(predicate, timeout)
        assert v, f"timed out waiting for {what}; hub console:\n{self.hub.console()[-3000:]}"
        return v

    async def console_has(self, text, timeout):
        end = time.monotonic() + timeout
        while text not in self.hub.console():
            assert time.monotonic() < end, f"no {text!r} in console:\n{self.hub.console()}"
            await asyncio.sleep(0.01)

    async def booted(self):
        """Wait until the hub has reached the fleet and applied its configuration (a hub
        process starts in under a second at rest, several on busy cores: the deadline is
        only for one that never does)."""
        await self.until(lambda: self.fleet.heartbeats, 30, "a heartbeat")
        await self.console_has("configuration 00000001", 30)

    def outage(self, seconds):
        """The path to the fleet drops everything, both ways, from now for `seconds`."""
        now = asyncio.get_running_loop().time() - self.relay._t0
        self.relay.imp.outages.append((now, now + seconds))

    def panics(self):
        return self.fleet.events(HUB, "panic")


@pytest.fixture
async def world(tmp_path):
    fleet = StandinFleet(tmp_path / "fleet")
    port = await fleet.start()
    relay = Relay(("127.0.0.1", port), Impairment())
    _, relay_port = await relay.start()
    hub_dir = provision(tmp_path / "hub", wlan={"ssid": "portineria", "key": "", "assoc_ms": 100})
    ident = fleet.enrol(HUB, port=relay_port, ack=ACK_MS, buzzer=25, led=2)
    write_identity(hub_dir / "flash", ident)
    fleet.set_config(HUB, SENSORS, hb=2, rd=300)
    hub = Hub(hub_dir, real_time=True)
    hub.start()
    yield World(fleet, relay, hub)
    hub.power_cut()
    relay.close()
    await fleet.stop()
