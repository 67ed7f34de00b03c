"""Sensirion SHT3x temperature and humidity sensor on I2C.

Single-shot measurement, high repeatability, no clock stretching (command 0x2400): the
sensor NACKs reads until the result is ready, so the bus is never held. The split
start() / read() lets the asyncio loop run during the 15 ms conversion:

    sensor = SHT3x(i2c)               # a machine.I2C / SoftI2C, address 0x44 (ADDR_ALT: 0x45)
    celsius, rh = await sensor.measure()
    # or: sensor.start(); ...at least MEASURE_MS later...; celsius, rh = sensor.read()

Failures raise SHT3xError with a sentence fit for the hub's log: no answer on the bus
(NACK), result not ready, or a CRC mismatch (a noisy or loose bus).
"""

import asyncio

ADDR = 0x44  # ADDR pin low
ADDR_ALT = 0x45  # ADDR pin high
MEASURE_MS = 15  # datasheet maximum for high repeatability
_MEASURE = b"\x24\x00"  # single shot, high repeatability, clock stretching disabled


class SHT3xError(Exception):
    """The sensor did not answer, or answered with a bad checksum."""


def crc8(data, start=0, end=None):
    """Sensirion CRC-8: polynomial 0x31, init 0xFF, no reflection (0xBEEF -> 0x92)."""
    crc = 0xFF
    for i in range(start, len(data) if end is None else end):
        crc ^= data[i]
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


class SHT3x:
    def __init__(self, i2c, addr=ADDR):
        self._i2c = i2c
        self.addr = addr
        self._buf = bytearray(6)  # temperature MSB, LSB, CRC, humidity MSB, LSB, CRC

    def start(self):
        """Start one conversion; read() it at least MEASURE_MS later."""
        try:
            self._i2c.writeto(self.addr, _MEASURE)
        except OSError as e:
            raise SHT3xError(f"SHT3x at 0x{self.addr:02x}: no answer ({e})") from None

    def read(self):
        """The conversion started last: (degrees Celsius, % relative humidity)."""
        buf = self._buf
        try:
            self._i2c.readfrom_into(self.addr, buf)
        except OSError as e:
            raise SHT3xError(f"SHT3x at 0x{self.addr:02x}: no result ({e})") from None
        if crc8(buf, 0, 2) != buf[2] or crc8(buf, 3, 5) != buf[5]:
            raise SHT3xError(f"SHT3x at 0x{self.addr:02x}: CRC error")
        t = buf[0] << 8 | buf[1]
        h = buf[3] << 8 | buf[4]
        return -45 + 175 * t / 65535, 100 * h / 65535

    async def measure(self):
        """start(), wait without blocking the loop, read()."""
        self.start()
        await asyncio.sleep(MEASURE_MS / 1000)
        return self.read()
