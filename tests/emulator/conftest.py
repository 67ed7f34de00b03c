import shutil
import sys
import textwrap

import pytest

from emulator.supervisor import Hub, provision
from tests.mpy import ROOT

HAL = ROOT / "firmware" / "hub" / "hal.py"


@pytest.fixture
def make_hub(tmp_path):
    """make_hub(main_py_source, **hub_config) -> Hub with hal and that main.py on flash."""
    hubs = []

    def make(main, **config):
        fw = tmp_path / f"fw{len(hubs)}"
        (fw / "hub").mkdir(parents=True)
        shutil.copy(HAL, fw / "hub" / "hal.py")
        (fw / "main.py").write_text(textwrap.dedent(main))
        hub = Hub(provision(tmp_path / f"hub{len(hubs)}", firmware=fw, **config))
        hubs.append(hub)
        return hub

    yield make
    for h in hubs:
        h.power_cut()


@pytest.fixture
def board(monkeypatch):
    """The emulator's stand-ins in this process, with a virtual clock, restored after."""
    import asyncio
    import time

    # hub.hal binds the clock's functions when imported: a copy another test imported
    # (the firmware tests do) would keep its clock, so this board's hub starts afresh;
    # monkeypatch puts those modules back afterwards.
    for name in [n for n in sys.modules if _board_module(n)]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(ROOT / "emulator" / "cpython"))
    monkeypatch.syspath_prepend(str(ROOT / "emulator" / "hw"))
    monkeypatch.syspath_prepend(str(ROOT / "firmware"))
    from emulator import clock as vclock

    clk = vclock.VirtualClock()
    for name, value in (
        ("ticks_ms", clk.ticks_ms),
        ("ticks_diff", vclock._ticks_diff),
        ("ticks_add", vclock._ticks_add),
    ):
        monkeypatch.setattr(time, name, value, raising=False)
    monkeypatch.setattr(asyncio, "ThreadSafeFlag", vclock.ThreadSafeFlag, raising=False)

    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)

    monkeypatch.setattr(asyncio, "sleep_ms", sleep_ms, raising=False)
    import emusim

    from emulator.host import HostBoard

    b = HostBoard(clk, {}, 1, "/nonexistent")
    b.has_timers = False  # no hub loop here: bounces and timers happen at once
    monkeypatch.setattr(emusim, "board", b)
    yield b
    for name in [n for n in sys.modules if _board_module(n)]:
        del sys.modules[name]


def _board_module(name):
    return name.split(".")[0] in ("hub", "machine", "network", "bluetooth")
