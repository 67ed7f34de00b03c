"""`./dev demo`: what Portineria does today, for real, on this machine.

Three emulated hubs (the unchanged firmware, one process each, real time) in three
flats report to a fleet over CoAP and OSCORE on 127.0.0.1: residents move about, a
door opens, and Signora Bianchi presses her panic button during a network outage —
which still arrives, once. The fleet here is the emulator's stand-in (aiocoap with its
own OSCORE): the real fleet server, with its web pages, is not built yet.
"""

import asyncio
import shutil
import time
from pathlib import Path

from emulator.relay import Impairment, Relay
from emulator.standin_fleet import StandinFleet, write_identity
from emulator.supervisor import Hub, provision

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "demo"
FLATS = [
    ("hub-3a", "3A", "Maria Bianchi"),
    ("hub-4b", "4B", "Giovanni Rossi"),
    ("hub-5c", "5C", "Ada Colombo"),
]


def sensors(flat):
    return [
        {"id": "panic", "kind": "panic", "room": "living", "flat": flat, "pin": 4, "active": 0},
        {"id": "door", "kind": "door", "room": "entrance", "flat": flat, "pin": 5, "active": 1},
        {"id": "pir-k", "kind": "motion", "room": "kitchen", "flat": flat, "pin": 12, "active": 1},
        {"id": "pir-b", "kind": "motion", "room": "bedroom", "flat": flat, "pin": 14, "active": 1},
    ]


def show(fleet, seen, who):
    for hub, seq, _ in fleet.arrivals[seen:]:
        for r in fleet.records[(hub, seq)]:
            kind = r["n"].rsplit("/", 1)[-1]
            value = r.get("vb", r.get("v", r.get("vs")))
            flag = "  ← EMERGENCY" if kind == "panic" else ""
            print(f"  fleet got  {who[hub]:15s} {kind:8s} {value!s:6s} (record {seq}){flag}")
    return len(fleet.arrivals)


async def demo():
    shutil.rmtree(WORK, ignore_errors=True)
    fleet = StandinFleet(WORK / "fleet")
    port = await fleet.start()
    relay = Relay(("127.0.0.1", port), Impairment(loss=0.05), seed=1)
    _, relay_port = await relay.start()
    who = {hub: f"{name} ({flat})" for hub, flat, name in FLATS}
    hubs = {}
    for hub_id, flat, _ in FLATS:
        d = provision(WORK / hub_id, wlan={"ssid": "portineria", "key": "", "assoc_ms": 100})
        write_identity(d / "flash", fleet.enrol(hub_id, port=relay_port, ack=500))
        fleet.set_config(hub_id, sensors(flat), hb=5, rd=300)
        hubs[hub_id] = Hub(d, real_time=True)
        hubs[hub_id].start()
    print(f"Fleet (stand-in) on udp://127.0.0.1:{port}, 3 hubs behind a relay that loses 5%.")
    seen = 0
    try:
        configured = lambda: all("configuration 00000001" in h.console() for h in hubs.values())  # noqa: E731
        await fleet.wait_for(configured, 30)
        print("All three hubs are online and configured over OSCORE.\n")
        hubs["hub-4b"].send("motion", room="kitchen")
        hubs["hub-5c"].send("door", room="entrance", opened=True)
        hubs["hub-3a"].send("motion", room="bedroom")
        await fleet.wait_for(lambda: len(fleet.arrivals) >= 3, 10)
        seen = show(fleet, seen, who)
        print("\nThe network to the fleet goes down for 8 s; Maria presses her panic button.")
        now = asyncio.get_running_loop().time() - relay._t0
        relay.imp.outages.append((now, now + 8))
        pressed = time.monotonic()
        hubs["hub-3a"].send("press_panic")
        await fleet.wait_for(lambda: fleet.events("hub-3a", "panic"), 30)
        took = time.monotonic() - pressed
        seen = show(fleet, seen, who)
        print(f"\nThe panic press was queued on the hub's flash and arrived {took:.1f} s after")
        print(
            f"the press, once ({sum(fleet.repeats.values())} retransmitted copies were recognised)."
        )
    finally:
        for hub in hubs.values():
            hub.power_cut()
        relay.close()
        await fleet.stop()
    print(f"\nHub flash and fleet records are in {WORK.relative_to(ROOT)}/.")


def main():
    print(__doc__)
    asyncio.run(demo())


if __name__ == "__main__":
    main()
