"""`portineria emulate HUB_DIR`: an emulated hub on a serial port, to try the tools on
without hardware. The first run makes HUB_DIR with an empty flash, as a board fresh from
`portineria flash` has; the hub runs the unchanged firmware once `deploy` put it there.
Its serial port (a pseudo-terminal) is printed and written to HUB_DIR/tty; resets
restart it, as on a board; Ctrl-C powers it off. The emulated Wi-Fi network is called
`portineria`, with no key."""

import asyncio
import json
import signal
import sys
from pathlib import Path

WLAN = {"ssid": "portineria", "key": "", "assoc_ms": 100}


def run(hub_dir, seconds=None, as_json=False):
    from emulator.supervisor import Hub, Supervisor, provision

    hub_dir = Path(hub_dir)
    if not (hub_dir / "hub.json").exists():
        provision(hub_dir, firmware=None, protocol=None, wlan=WLAN)
    hub = Hub(hub_dir, real_time=True, serial=True)
    if as_json:
        print(json.dumps({"hub_dir": str(hub_dir), "tty": hub.tty}))
    else:
        print(f"emulated hub in {hub_dir} on serial port {hub.tty} (Ctrl-C to power it off)")
    sys.stdout.flush()

    def power_off(signum, frame):
        hub.power_cut()  # first: the supervisor's thread waiting on the hub then returns
        raise KeyboardInterrupt

    # Also when started in the background (SIGINT ignored) or stopped with kill: the
    # hub's own process must not outlive us.
    signal.signal(signal.SIGINT, power_off)
    signal.signal(signal.SIGTERM, power_off)
    try:
        asyncio.run(Supervisor([hub]).run(seconds if seconds is not None else 10**9))
    finally:
        hub.close()
