# Over-the-air update figures: bundle and manifest bytes (ESP32 .mpy build and the
# emulator's source build), then HUBS emulated hubs (one CPython process each, real time,
# ACK_TIMEOUT 100 ms, heartbeat 2 s) updated at once through the stand-in fleet, without
# and with 20 % loss: per hub, offer -> reset (download + verify + install, the wait for
# the next heartbeat included) and reset -> first heartbeat of the new version (the
# monitoring lost to the update), and the time to its confirmation.
# Run: PYTHONPATH=. .venv/bin/python tests/bench/bench_ota.py [HUBS]

import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

from emulator.relay import Impairment, Relay
from emulator.standin_fleet import StandinFleet, write_identity
from emulator.supervisor import RESET_EXIT_BASE, Hub, provision
from tests.e2e.conftest import SENSORS
from tools import release

HUBS = int(sys.argv[1]) if len(sys.argv) > 1 else 4


def sizes(key):
    for hw in ("micropython-esp32", "cpython-linux"):
        t = time.perf_counter()
        cose, bundle, m = release.build(key, "0.2.0", 2, hw)
        took = time.perf_counter() - t
        print(
            f"{hw:18} bundle {len(bundle):7} B in {len(m[release.M_FILES])} files, "
            f"{(len(bundle) + 1023) // 1024} blocks; manifest {len(cose)} B; built in {took:.1f} s"
        )


async def run(key, loss, tmp):
    cose, bundle, _ = release.build(key, "0.2.0", 2, "cpython-linux")
    fleet = StandinFleet(tmp / "fleet")
    port = await fleet.start()
    relay = Relay(("127.0.0.1", port), Impairment(loss=loss), seed=1)
    _, relay_port = await relay.start()
    hubs = []
    for i in range(HUBS):
        name = f"hub-{i}"
        d = provision(tmp / name, wlan={"ssid": "portineria", "key": "", "assoc_ms": 100})
        write_identity(d / "flash", fleet.enrol(name, port=relay_port, ack=100))
        (d / "flash" / "ota.keys").write_bytes(release.trusted_keys([release.public_bytes(key)]))
        fleet.set_config(name, SENSORS, hb=2, rd=300)
        hub = Hub(d, real_time=True)
        hub.start()
        hubs.append((name, hub))
    resets = {}

    async def keep(name, hub):
        while True:
            await asyncio.sleep(0.01)
            code = hub.proc.poll()
            if code is not None and code > RESET_EXIT_BASE:
                resets.setdefault(name, time.monotonic())
                hub.start(code - RESET_EXIT_BASE)

    keepers = [asyncio.ensure_future(keep(n, h)) for n, h in hubs]
    await fleet.wait_for(lambda: len({h for h, _, _ in fleet.heartbeats}) == HUBS, 30)
    t0 = time.monotonic()
    for name, _ in hubs:
        fleet.offer(name, cose, bundle)

    def first(name, pred):
        return next((t for h, b, t in fleet.heartbeats if h == name and pred(b)), None)

    def done():
        return all(first(n, lambda b: b.get(9, [None])[0] == "updated") for n, _ in hubs)

    await fleet.wait_for(done, 300)
    install, lost, confirm = [], [], []
    for name, _ in hubs:
        new = first(name, lambda b: b[5] == "0.2.0")
        ok = first(name, lambda b: b.get(9, [None])[0] == "updated")
        if name in resets and new and ok:
            install.append(resets[name] - t0)
            lost.append(new - resets[name])
            confirm.append(ok - resets[name])
    for k in keepers:
        k.cancel()
    for _, hub in hubs:
        hub.power_cut()
    relay.close()
    await fleet.stop()

    def fig(xs):
        return f"median {statistics.median(xs):5.1f} s, max {max(xs):5.1f} s"

    print(
        f"loss {loss:.0%}: {len(install)}/{HUBS} hubs updated; {len(fleet.ota_gets)} OTA requests"
    )
    print(f"  offer -> reset (download, verify, install)  {fig(install)}")
    print(f"  reset -> first heartbeat of the new version {fig(lost)}   <- monitoring lost")
    print(f"  reset -> confirmed                          {fig(confirm)}")


def main():
    key = release._ed25519().Ed25519PrivateKey.generate()
    sizes(key)
    for loss in (0.0, 0.2):
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(key, loss, Path(tmp)))
            gc.collect()  # aiocoap saves its contexts when collected: while the dir exists


if __name__ == "__main__":
    main()
