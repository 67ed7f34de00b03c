"""A simulated Sensirion SHT3x for the emulator's I2C bus (CPython and MicroPython).

It speaks the datasheet protocol the hub's driver uses: a single-shot measurement
command (0x24xx or 0x2Cxx), then a 6-byte read of temperature and humidity, each with
its CRC-8. Like the real chip without clock stretching it NACKs (OSError) a read when no
result is ready: before any measurement, a second read of the same result, or, when a
clock is given, earlier than the conversion time. Soft reset (0x30A2) and status
(0xF32D) are answered too. Faults for tests: `nack` (the chip is gone), `corrupt` (the
next result is garbled on the wire).
"""

_NACK = 19  # errno the ESP32 port raises when a device does not acknowledge
CONVERSION_MS = {0x00: 15, 0x0B: 6, 0x16: 4, 0x06: 15, 0x0D: 6, 0x10: 4}  # by LSB


def crc8(data):
    crc = 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _word(value):
    value = max(0, min(0xFFFF, value))
    return bytes((value >> 8, value & 0xFF, crc8((value >> 8, value & 0xFF))))


class SHT3x:
    def __init__(self, celsius=21.0, humidity=50.0, now_ms=None):
        self.celsius = celsius
        self.humidity = humidity
        self._now_ms = now_ms  # a clock in ms (the emulator's); None: results are instant
        self._out = None  # bytes the next read returns
        self._ready_at = 0
        self.nack = False
        self.corrupt = False
        self.measurements = 0

    def set(self, celsius, humidity=50.0):
        self.celsius = celsius
        self.humidity = humidity

    def _check(self):
        if self.nack:
            raise OSError(_NACK)

    def writeto(self, buf):
        self._check()
        if len(buf) != 2:
            raise OSError(_NACK)
        cmd = buf[0] << 8 | buf[1]
        if buf[0] in (0x24, 0x2C) and buf[1] in CONVERSION_MS:
            t = round((self.celsius + 45) * 65535 / 175)
            h = round(self.humidity * 65535 / 100)
            out = bytearray(_word(t) + _word(h))
            if self.corrupt:
                out[1] ^= 0x04
                self.corrupt = False
            self._out = bytes(out)
            self.measurements += 1
            if self._now_ms is not None:
                self._ready_at = self._now_ms() + CONVERSION_MS[buf[1]]
        elif cmd == 0x30A2:  # soft reset
            self._out = None
        elif cmd == 0xF32D:  # status register: all clear
            self._out = _word(0)
        else:
            raise OSError(_NACK)

    def readfrom_into(self, buf):
        self._check()
        if self._out is None:
            raise OSError(_NACK)
        if self._now_ms is not None and self._now_ms() < self._ready_at:
            raise OSError(_NACK)
        n = min(len(buf), len(self._out))
        buf[:n] = self._out[:n]
        self._out = None
