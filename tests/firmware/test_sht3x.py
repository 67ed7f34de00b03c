"""SHT3x driver against the datasheet and a simulated chip, on CPython and MicroPython."""

import asyncio
import sys
import time

import pytest

from emulator.sht3x_sim import SHT3x as SimSHT3x
from tests.mpy import ROOT, run_micropython

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`

from hub.sht3x import ADDR_ALT, MEASURE_MS, SHT3x, SHT3xError, crc8  # noqa: E402


class Bus:
    """A machine.I2C stand-in: devices by address, absent ones NACK; logs the writes."""

    def __init__(self, **devices):
        self.devices = {int(a[1:], 16): d for a, d in devices.items()}
        self.writes = []

    def _dev(self, addr):
        if addr not in self.devices:
            raise OSError(19)
        return self.devices[addr]

    def writeto(self, addr, buf):
        self.writes.append((addr, bytes(buf)))
        self._dev(addr).writeto(bytes(buf))

    def readfrom_into(self, addr, buf):
        self._dev(addr).readfrom_into(buf)


class Raw:
    """A chip that returns fixed bytes, to pin the conversion formulas."""

    def __init__(self, data):
        self.data = data

    def writeto(self, buf):
        pass

    def readfrom_into(self, buf):
        buf[:] = self.data


def test_crc8_datasheet_example():
    # SHT3x-DIS datasheet §4.12: CRC of 0xBEEF is 0x92.
    assert crc8(b"\xbe\xef") == 0x92
    assert crc8(b"\x00\xbe\xef\x00", 1, 3) == 0x92


def word(v):
    b = bytes((v >> 8, v & 0xFF))
    return b + bytes((crc8(b),))


@pytest.mark.parametrize(
    ("t_raw", "h_raw", "celsius", "rh"),
    [(0, 0, -45.0, 0.0), (0xFFFF, 0xFFFF, 130.0, 100.0), (0x6666, 0x8000, 25.0, 50.0008)],
)
def test_conversion_formulas(t_raw, h_raw, celsius, rh):
    sensor = SHT3x(Bus(x44=Raw(word(t_raw) + word(h_raw))))
    sensor.start()
    t, h = sensor.read()
    assert t == pytest.approx(celsius, abs=1e-3)
    assert h == pytest.approx(rh, abs=1e-3)


def test_sends_single_shot_high_repeatability_no_stretching():
    bus = Bus(x44=SimSHT3x())
    SHT3x(bus).start()
    assert bus.writes == [(0x44, b"\x24\x00")]


@pytest.mark.parametrize(("c", "h"), [(21.37, 48.2), (-12.5, 99.0), (60.0, 3.3)])
def test_round_trip_through_simulated_chip(c, h):
    sensor = SHT3x(Bus(x45=SimSHT3x(c, h)), addr=ADDR_ALT)
    sensor.start()
    t, rh = sensor.read()
    assert t == pytest.approx(c, abs=175 / 65535)
    assert rh == pytest.approx(h, abs=100 / 65535)


def test_absent_sensor_is_a_clear_error():
    with pytest.raises(SHT3xError, match="0x44: no answer"):
        SHT3x(Bus()).start()


def test_read_without_measurement_is_a_clear_error():
    sensor = SHT3x(Bus(x44=SimSHT3x()))
    with pytest.raises(SHT3xError, match="no result"):
        sensor.read()
    sensor.start()
    sensor.read()
    with pytest.raises(SHT3xError, match="no result"):
        sensor.read()  # one result per measurement


def test_garbled_result_fails_crc():
    chip = SimSHT3x()
    sensor = SHT3x(Bus(x44=chip))
    chip.corrupt = True
    sensor.start()
    with pytest.raises(SHT3xError, match="CRC"):
        sensor.read()
    sensor.start()
    assert sensor.read()[0] == pytest.approx(21.0, abs=0.01)


def test_sensor_that_disappears_mid_conversion():
    chip = SimSHT3x()
    sensor = SHT3x(Bus(x44=chip))
    sensor.start()
    chip.nack = True
    with pytest.raises(SHT3xError, match="no result"):
        sensor.read()


def test_result_not_ready_before_conversion_time():
    now = [0]
    sensor = SHT3x(Bus(x44=SimSHT3x(now_ms=lambda: now[0])))
    sensor.start()
    now[0] = MEASURE_MS - 1
    with pytest.raises(SHT3xError):
        sensor.read()
    sensor.start()
    now[0] += MEASURE_MS
    assert sensor.read()[1] == pytest.approx(50.0, abs=0.01)


async def test_measure_waits_without_blocking_the_loop():
    ms = lambda: time.monotonic() * 1000  # noqa: E731
    sensor = SHT3x(Bus(x44=SimSHT3x(30.0, 40.0, now_ms=ms)))
    ticks = 0

    async def other_work():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(other_work())
    t, h = await sensor.measure()
    task.cancel()
    assert (round(t, 1), round(h, 1)) == (30.0, 40.0)
    assert ticks >= 3


def test_on_micropython():
    # tests/mpy.py's MICROPYPATH leaves out ".frozen", where the unix port keeps asyncio.
    code = """
import sys
sys.path.append(".frozen")
import asyncio
from hub.sht3x import SHT3x, SHT3xError, crc8
from emulator.sht3x_sim import SHT3x as Sim
import time
assert crc8(b"\\xbe\\xef") == 0x92
chip = Sim(-7.25, 63.5, now_ms=time.ticks_ms)
class Bus:
    def writeto(self, addr, buf):
        chip.writeto(buf)
    def readfrom_into(self, addr, buf):
        chip.readfrom_into(buf)
s = SHT3x(Bus())
s.start()
try:
    s.read()
    raise SystemExit("read before conversion should fail")
except SHT3xError:
    pass
t, h = asyncio.run(s.measure())
assert abs(t + 7.25) < 0.01 and abs(h - 63.5) < 0.01, (t, h)
chip.corrupt = True
s.start()
time.sleep_ms(16)
try:
    s.read()
    raise SystemExit("CRC error missed")
except SHT3xError as e:
    print("OK", e)
"""
    res = run_micropython(code, paths=["firmware"])
    assert res.status == 0, res.output
    assert res.output.strip() == "OK SHT3x at 0x44: CRC error"
