"""One emulated hub against the stand-in fleet: real processes, real UDP, real OSCORE
(our client on the hub, aiocoap's server in the fleet).

The outage tests stand a short outage in for the 10-minute one: the hub's ACK_TIMEOUT is
100 ms instead of 2 s (identity key "ack"), so an exchange gives up after at most 4.7 s
and the sender's back-off is capped at 3 s; an 8-second outage thus takes the hub through
the same states as 10 minutes would at the normal timers (exchanges that time out, a
capped back-off between attempts, heartbeats that fail), just fewer times round."""

import asyncio
import time

from emulator.bthome_sensor import BTHomeSensor
from tests.e2e.conftest import DEBOUNCE_S, DOOR, HUB, SENSORS

OUTAGE_S = 8.0


async def test_boot_heartbeat_and_panic_within_100_ms(world):
    await world.booted()
    hub_id, beat, _ = world.fleet.heartbeats[0]
    assert hub_id == HUB
    assert set(beat) == {1, 2, 3, 4, 5, 6, 7, 8, 10}
    assert beat[10] == 0  # no emergency waiting in the outbox at boot
    assert beat[5] == "0.1.0" and beat[7] == "power-on" and beat[3] == -60
    latencies = []
    for n in range(1, 6):
        world.hub.send("press_panic")
        await world.until(lambda n=n: len(world.panics()) == n, 5, f"panic {n}")
        seq, rec = world.panics()[-1]
        assert rec["vb"] is True
        # Timed from the hub's own pin, not from our message to it, which a busy machine
        # may deliver tens of ms late.
        pressed = world.hub.acted("press_panic")[n - 1]
        latencies.append(world.fleet.arrival(HUB, seq) - pressed - DEBOUNCE_S)
        await asyncio.sleep(0.5)  # the button is released after 0.3 s
    print("panic latency after debounce, ms:", [round(x * 1000, 1) for x in latencies])
    # The median of five: a press or two delayed by other processes hogging this 2-core
    # machine is the scheduler's doing, not the hub's; a hub slow every time still fails.
    assert sorted(latencies)[2] < 0.100
    # The hub set its clock from the heartbeat reply: the panic carries a Unix time.
    assert abs(world.panics()[-1][1]["t"] - time.time()) < 5


async def test_panic_during_outage_is_delivered_after_it_exactly_once(world):
    await world.booted()
    world.outage(OUTAGE_S)
    t_outage = time.monotonic()
    await asyncio.sleep(0.5)
    world.hub.send("press_panic")
    await asyncio.sleep(OUTAGE_S - 1.0)
    assert world.panics() == []  # nothing got through the outage
    assert world.relay.stats["up_outage"] >= 5  # the hub kept trying
    await world.until(world.panics, 10, "the panic after the outage")
    assert time.monotonic() - t_outage >= OUTAGE_S
    await asyncio.sleep(1.0)  # any retransmission would have arrived by now
    assert len(world.panics()) == 1


async def test_panic_survives_a_power_cut_during_the_outage(world):
    await world.booted()
    world.outage(OUTAGE_S)
    await asyncio.sleep(0.5)
    world.hub.send("press_panic")
    await asyncio.sleep(1.5)  # queued on flash within the debounce; let it try to send
    world.hub.power_cut()
    await asyncio.sleep(0.5)
    world.hub.start()
    await asyncio.sleep(OUTAGE_S - 3.0)
    assert world.panics() == []
    await world.until(world.panics, 10, "the panic after the outage and the power cut")
    await asyncio.sleep(1.0)
    assert len(world.panics()) == 1
    # It was the restarted hub that delivered it, under the same OSCORE context: its
    # sequence numbers resumed past the persisted mark, so aiocoap's replay window
    # accepted them.
    assert world.hub.boots == 2 and world.hub.console().count("Portineria 0.1.0") == 2


async def test_configuration_change_is_fetched_and_applied(world):
    await world.booted()
    world.hub.send("door", room="entrance", opened=True)
    await asyncio.sleep(0.5)
    assert world.fleet.events(HUB, "door") == []  # not configured yet
    etag = world.fleet.set_config(HUB, [*SENSORS, DOOR], hb=2, rd=300)
    await world.console_has("configuration 00000002", 6)
    # The hub asked with the ETag it held, and reports the new one from then on.
    assert (HUB, [b"\x00\x00\x00\x01"]) in world.fleet.config_gets
    n = len(world.fleet.heartbeats)
    await world.until(lambda: len(world.fleet.heartbeats) > n, 4, "a heartbeat")
    assert world.fleet.heartbeats[-1][1][8] == etag
    world.hub.send("door", room="entrance", opened=False)
    await world.until(lambda: world.fleet.events(HUB, "door"), 2, "the door event")
    assert world.fleet.events(HUB, "door")[0][1]["vb"] is False


async def test_ble_button_as_panic_and_ble_door(world):
    key = bytes(range(16))
    button = BTHomeSensor("A4:C1:38:00:00:01", key=key)
    door = BTHomeSensor("A4:C1:38:00:00:02")
    sensors = [
        *SENSORS,
        {"id": "btn1", "kind": "panic", "room": "living", "flat": "3A", "ble": button.mac,
         "key": key},
        {"id": "bdoor", "kind": "door", "room": "entrance", "flat": "3A", "ble": door.mac},
    ]  # fmt: skip
    await world.booted()
    world.fleet.set_config(HUB, sensors, hb=2, rd=300)
    await world.console_has("configuration 00000002", 6)

    def ble(sensor, adv):
        world.hub.send("ble", addr=sensor.mac.hex(), adv=adv.hex())

    # A forged plain advertisement from the keyed button is not a panic.
    ble(button, BTHomeSensor("A4:C1:38:00:00:01").button("press"))
    adv = button.button("press")
    for _ in range(3):  # sensors repeat each advertisement; the hub takes it once
        ble(button, adv)
    await world.until(world.panics, 5, "the BLE panic")
    # Prompt, with room for a busy machine: the 100 ms budget is for wired presses. Timed
    # from the first copy reaching the hub's radio (the forged one came before).
    heard = world.hub.acted("ble")[1]
    assert world.fleet.arrival(HUB, world.panics()[0][0]) - heard < 0.5
    ble(door, door.door(opened=True))
    await world.until(lambda: world.fleet.events(HUB, "door"), 2, "the BLE door")
    await asyncio.sleep(0.3)
    names = [r["n"] for _, r in world.panics()]
    assert names == ["urn:dev:hub:hub-1:btn1/panic"]
    assert world.fleet.events(HUB, "door")[0][1]["vb"] is True
