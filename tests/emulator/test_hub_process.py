"""Whole emulated hubs, one process each: virtual time, watchdog, power cuts, full flash."""

import time

BOOT_LOG = """
import os
from hub import hal
with open("boots.txt", "a") as f:
    f.write(hal.reset_cause() + "\\n")
"""


def _until(predicate, hub, timeout=30):
    """Wait for what the hub does next; the deadline is only for a hub that never does."""
    end = time.monotonic() + timeout
    while not predicate():
        assert hub.running() and time.monotonic() < end, hub.console()
        time.sleep(0.01)


def test_a_day_of_sleeps_takes_well_under_a_second(make_hub):
    hub = make_hub(
        BOOT_LOG
        + """
import asyncio, time
async def main():
    t0, real0 = time.ticks_ms(), time.monotonic()  # the emulator leaves monotonic real
    for _ in range(24 * 60):
        await asyncio.sleep(60)
    real = time.monotonic() - real0
    print("slept", time.ticks_diff(time.ticks_ms(), t0), hal.wall_time(), real)
asyncio.run(main())
"""
    )
    hub.start()
    assert hub.wait(30) == 0, hub.console()
    slept, wall, real = hub.console().split()[1:]
    # The day itself, timed by the hub so that the interpreter's start-up on a busy
    # machine is not counted: about 0.015 s here, a real day if the clock did not jump.
    assert float(real) < 1.0
    assert 86_400_000 <= int(slept) < 86_400_000 + 500
    # The RTC starts at 2000-01-01 on power-on, and follows the virtual clock.
    assert int(wall) == 946684800 + 86400


STALL = """
import asyncio, time
async def main():
    wdt = hal.watchdog(2000)
    for _ in range(5):
        await asyncio.sleep(1)
        wdt.feed()
    print("stalling")
    %s
    print("still alive")
if hal.reset_cause() == "power-on":
    asyncio.run(main())
"""


def test_watchdog_resets_a_hub_whose_loop_blocks(make_hub):
    hub = make_hub(BOOT_LOG + STALL % "time.sleep(30)")
    hub.start()
    assert hub.wait(10) == 103, hub.console()  # RESET_EXIT_BASE + WDT_RESET
    assert "still alive" not in hub.console()
    hub.start(3)
    assert hub.wait(10) == 0
    assert (hub.dir / "flash" / "boots.txt").read_text().split() == ["power-on", "watchdog"]


def test_watchdog_fires_at_its_deadline_when_the_loop_sleeps_past_it(make_hub):
    hub = make_hub(
        BOOT_LOG
        + """
import asyncio, time
async def main():
    wdt = hal.watchdog(5000)
    with open("t.txt", "w") as f:
        f.write(str(time.monotonic()))  # real time, the same clock as the test's
    await asyncio.sleep(3600)
    print("woke")
asyncio.run(main())
"""
    )
    hub.start()
    assert hub.wait(10) == 103
    # An hour's sleep cut short in virtual time: the watchdog's 5 s are not waited for in
    # real time. Timed from the watchdog's start, not the interpreter's start-up.
    started = float((hub.dir / "flash" / "t.txt").read_text())
    assert time.monotonic() - started < 2.5
    assert "woke" not in hub.console()


def test_power_cut_keeps_flash_and_restarts_cold(make_hub):
    hub = make_hub(
        BOOT_LOG
        + """
import asyncio
async def main():
    hal.set_wall_time(1767225600)
    n = 0
    while True:
        with open("count.txt", "w") as f:
            f.write(str(n))
        n += 1
        await asyncio.sleep_ms(1)
asyncio.run(main())
""",
        uid="240ac4aabbcc",
    )
    flash = hub.dir / "flash"
    boots = flash / "boots.txt"
    hub.start()
    # Cut while the loop is writing: after its first write, however long start-up took.
    _until(lambda: (flash / "count.txt").exists(), hub)
    hub.power_cut()
    hub.start()
    _until(lambda: boots.read_text().count("\n") == 2, hub)
    hub.power_cut()
    assert boots.read_text().split() == ["power-on", "power-on"]
    assert (flash / "main.py").exists()


FILL = """
import errno, os
from hub import hal
free0, total = hal.flash_free()
n = 0
try:
    with open("fill.bin", "wb") as f:
        while True:
            f.write(bytes(1000))
            n += 1
except OSError as e:
    print("error", e.args[0] == errno.ENOSPC)
free1, _ = hal.flash_free()
print("wrote", n, free0, free1, total)
"""


def test_full_flash_fails_writes_with_enospc_and_statvfs_agrees(make_hub):
    hub = make_hub(FILL, flash_capacity=64 * 1024)
    hub.start()
    assert hub.wait(10) == 0, hub.console()
    lines = hub.console().split("\n")
    assert lines[0] == "error True"
    _, n, free0, free1, total = lines[1].split()
    assert int(total) == 64 * 1024
    assert int(free1) == 0
    assert int(free0) - 4096 < int(n) * 1000 <= int(free0)
    assert (hub.dir / "flash" / "fill.bin").stat().st_size == int(n) * 1000


def test_control_channel_drives_the_panic_button(make_hub):
    hub = make_hub(
        """
import asyncio
from hub import hal
async def main():
    inputs = hal.Inputs([(4, 2)])
    print("ready")
    await inputs.wait()
    print("event", inputs.get()[:2])
asyncio.run(main())
""",
    )
    hub.start()
    _until(lambda: "ready" in hub.console(), hub)
    hub.send("press_panic")
    assert hub.wait(10) == 0, hub.console()
    assert "event (0, 0)" in hub.console()
