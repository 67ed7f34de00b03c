"""BTHome v2 advertisements (https://bthome.io/format): plain and AES-CCM encrypted.

    rx = Receiver()
    rx.add(mac, key)                   # mac: 6 bytes as printed (54:48:E6:...); key: 16 bytes or None
    readings = rx.feed(mac, adv)       # adv: the advertising payload (AD structures)
    # -> [(object_id, value), ...] or None (not BTHome, unknown sensor, repeat, rejected)
    scanner = hal.Scanner(uuid16=0xFCD2)   # this module's Scanner: the BLE scan feeding rx

Values are ints, or floats for scaled objects (0x02 temperature 21.5), or bytes for text
and raw objects; the ids are the BTHome object ids (TEMPERATURE, BUTTON, ...). Button
events (0x3A) are PRESS, DOUBLE_PRESS, ... Parsing stops at an object id this table does
not know, since its size is unknown: the readings before it are kept.

Security: a sensor added with a key must send encrypted advertisements that verify and
whose counter increases; anything else from it is rejected (counted in `rejected`, the
reason in `last_error`), so a plain or replayed advertisement cannot fake a door or a
button. A sensor added without a key must send plain ones. A repeat of the same packet
(same counter, or same packet id) is dropped silently: sensors send each one many times.
"""

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity

_AD_SERVICE_DATA_16 = const(0x16)
_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_INFO_ENCRYPTED = const(0x01)
_INFO_MAC = const(0x02)  # the sensor's MAC (reversed) follows the info byte
_VERSION_2 = const(0x40)  # bits 5-7

PACKET_ID = 0x00
BATTERY = 0x01
TEMPERATURE = 0x02
HUMIDITY = 0x03
ILLUMINANCE = 0x05
VOLTAGE = 0x0C
GENERIC = 0x0F
OPENING = 0x11
DOOR = 0x1A
GAS = 0x1C
MOISTURE = 0x20
MOTION = 0x21
OCCUPANCY = 0x23
SMOKE = 0x29
WINDOW = 0x2D
BUTTON = 0x3A
TEMPERATURE_01 = 0x45

NONE, PRESS, DOUBLE_PRESS, TRIPLE_PRESS, LONG_PRESS = 0, 1, 2, 3, 4
LONG_DOUBLE_PRESS, LONG_TRIPLE_PRESS, HOLD_PRESS = 5, 6, 0x80

# Object table, one byte per id from 0x00: size in bits 0-2 (0: unknown id, 7: a length
# byte comes first), bit 3 signed, bits 4-6 the factor: 1, 0.1, 0.01, 0.001, 0.35, 1e-6.
_U1, _U2, _U3, _U4, _VAR, _S = 1, 2, 3, 4, 7, 8
_X01, _X001, _X0001, _X035, _X1E6 = 0x10, 0x20, 0x30, 0x40, 0x50
_DIVISORS = (1, 10, 100, 1000, 0, 1000000)  # dividing keeps 2506 / 100 == 25.06 exact
_BIN = _U1  # binary sensors: 0 or 1
# fmt: off
_TABLE = bytes((
    _U1, _U1, _S | _U2 | _X001, _U2 | _X001,  # 00 packet id, battery %, temperature, humidity
    _U3 | _X001, _U3 | _X001, _U2 | _X001, _U2 | _X001,  # 04 pressure, illuminance, mass kg, lb
    _S | _U2 | _X001, _U1, _U3 | _X0001, _U3 | _X001,  # 08 dew point, count, energy, power
    _U2 | _X0001, _U2, _U2, _BIN,  # 0C voltage, pm2.5, pm10, generic boolean
    _BIN, _BIN, _U2, _U2, _U2 | _X001,  # 10 power, opening, co2, tvoc, moisture %
    _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN,  # 15 battery low .. garage door (1B), gas
    _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN,  # 1D heat, light, lock, moisture, motion ..
    _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN, _BIN,  # 25 presence .. smoke (29) .. window (2D)
    _U1, _U1, 0, 0, 0, 0, 0, 0,  # 2E humidity %, moisture %
    0, 0, 0, 0, _U1, 0, _U2, _U2,  # 36 .., button (3A), dimmer (3C: event, steps), count
    _U4, _S | _U2 | _X01, _U2, _U2 | _X01,  # 3E count, rotation, distance mm, distance m
    _U3 | _X0001, _U2 | _X0001, _U2 | _X001, _S | _U2 | _X01,  # 42 duration, current, speed, temp
    _U1 | _X01, _U2 | _X01, _U2, _U2 | _X0001,  # 46 UV index, volume L, volume mL, flow rate
    _U2 | _X01, _U3 | _X0001, _U4 | _X0001, _U4 | _X0001,  # 4A voltage, gas m3 (x2), energy
    _U4 | _X0001, _U4 | _X0001, _U4, _U2 | _X0001,  # 4E volume, water, timestamp, acceleration
    _U2 | _X0001, _VAR, _VAR, _U4 | _X0001,  # 52 gyroscope, text, raw, volume storage
    _U2, _S | _U1, _S | _U1 | _X035, _S | _U1,  # 56 conductivity, temperature, temperature, count
    _S | _U2, _S | _U4, _S | _U4 | _X001, _S | _U2 | _X0001,  # 5A count, count, power, current
    _U2 | _X001, _U2 | _X01, _U1, _U2,  # 5E direction, precipitation, channel, rotational speed
    _S | _U4 | _X1E6, _S | _U4 | _X1E6, _U1,  # 62 latitude, longitude, light level
))
# fmt: on
_DEVICE_INFO = {0xF0: 2, 0xF1: 4, 0xF2: 3}  # device type id, firmware version (4 or 3 bytes)


def service_data(adv):
    """The BTHome service data (after the UUID) in an advertising payload, or None."""
    n = len(adv)
    i = 0
    while i + 1 < n and adv[i]:
        end = i + 1 + adv[i]
        if end > n:
            return None
        if adv[i + 1] == _AD_SERVICE_DATA_16 and end >= i + 5:
            if adv[i + 2] == 0xD2 and adv[i + 3] == 0xFC:
                return memoryview(adv)[i + 4 : end]
        i = end
    return None


def parse(data, out=None, start=0):
    """Plain BTHome objects in data[start:] as a list of (object_id, value)."""
    if out is None:
        out = []
    n = len(data)
    i = start
    while i < n:
        oid = data[i]
        spec = _TABLE[oid] if oid < len(_TABLE) else 0
        size = spec & 7 if spec else _DEVICE_INFO.get(oid, 0)
        if not size:
            break  # unknown object: its size, and so everything after it, is unknown
        i += 1
        if size == _VAR:
            if i >= n:
                break
            size = data[i]
            i += 1
            if i + size > n:
                break
            out.append((oid, bytes(data[i : i + size])))
            i += size
            continue
        if i + size > n:
            break
        v = 0
        for k in range(size - 1, -1, -1):
            v = v << 8 | data[i + k]
        if spec & _S and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        f = spec >> 4
        if f:
            v = v * 35 / 100 if f == 4 else v / _DIVISORS[f]
        out.append((oid, v))
        i += size
    return out


class _Sensor:
    def __init__(self, key, counter):
        self.ccm = None
        if key is not None:
            from protocol.ccm import CCM  # only hubs with encrypted sensors pay for AES

            self.ccm = CCM(key, 13, 4)
        self.counter = counter  # last accepted encryption counter
        self.packet = -1  # last packet id


class Receiver:
    """Decodes advertisements from the sensors it was given; see the module docstring."""

    def __init__(self):
        self._sensors = {}
        self._nonce = bytearray(13)
        self.rejected = 0
        self.last_error = None  # (mac, reason) of the last rejected advertisement

    def add(self, mac, key=None, counter=-1):
        """Listen to the sensor at mac (6 bytes, as printed); key: its 16-byte bind key,
        or None for plain advertisements; counter: the last one accepted, if it was kept."""
        self._sensors[bytes(mac)] = _Sensor(key, counter)

    def remove(self, mac):
        self._sensors.pop(bytes(mac), None)

    def counter(self, mac):
        """Last accepted encryption counter from the sensor (to persist), or -1."""
        s = self._sensors.get(bytes(mac))
        return s.counter if s else -1

    def _reject(self, mac, reason):
        self.rejected += 1
        self.last_error = (bytes(mac), reason)

    def feed(self, mac, adv):
        """Readings in one advertisement from the sender at mac, or None."""
        sd = service_data(adv)
        if sd is None or len(sd) < 1:
            return None
        info = sd[0]
        body = 1
        if info & _INFO_MAC:
            if len(sd) < 7:
                return None
            mac = bytes(sd[k] for k in range(6, 0, -1))  # the identity, whatever address sent it
            body = 7
        sensor = self._sensors.get(bytes(mac))
        if sensor is None:
            return None
        if (info & 0xE0) != _VERSION_2:
            self._reject(mac, "not BTHome v2")
            return None
        if info & _INFO_ENCRYPTED:
            if sensor.ccm is None:
                self._reject(mac, "encrypted, but no key")
                return None
            data = self._decrypt(mac, sensor, info, sd, body)
            if data is None:
                return None
            body = 0
        elif sensor.ccm is not None:
            self._reject(mac, "plain advertisement from a sensor with a key")
            return None
        else:
            data = sd
        readings = parse(data, None, body)
        if readings and readings[0][0] == PACKET_ID:
            if readings[0][1] == sensor.packet:
                return None  # a repeat
            sensor.packet = readings[0][1]
        return readings

    def _decrypt(self, mac, sensor, info, sd, body):
        # Ciphertext, 4-byte counter, 4-byte MIC; nonce: MAC, UUID, info byte, counter.
        n = len(sd)
        if n < body + 8:
            self._reject(mac, "encrypted advertisement too short")
            return None
        counter = sd[n - 8] | sd[n - 7] << 8 | sd[n - 6] << 16 | sd[n - 5] << 24
        if counter == sensor.counter:
            return None  # a repeat
        nonce = self._nonce
        nonce[0:6] = mac
        nonce[6] = 0xD2
        nonce[7] = 0xFC
        nonce[8] = info
        nonce[9:13] = sd[n - 8 : n - 4]
        ct = bytearray(n - body - 4)  # ciphertext then MIC, without the counter
        ct[0 : n - 8 - body] = sd[body : n - 8]
        ct[n - 8 - body :] = sd[n - 4 :]
        plain = sensor.ccm.decrypt(nonce, ct)
        if plain is None:
            self._reject(mac, "MIC does not verify (wrong key or forged)")
            return None
        if counter < sensor.counter:
            self._reject(mac, "counter went back (replay)")
            return None
        sensor.counter = counter
        return plain


# --- the scan that collects them (hal.Scanner) ----------------------------------------------
# Part of the hardware layer, kept here so that only a hub with BLE sensors loads it; it
# imports bluetooth when made, so the decoder above still runs anywhere.


class Scanner:
    """Passive BLE scan into a ring of (addr, rssi, adv bytes).

    The IRQ copies each result into buffers made here (the IRQ's memoryviews are only valid
    during the call). With uuid16 set, only advertisements carrying service data for that
    16-bit UUID are kept (0xFCD2 for BTHome), so other radios cannot fill the ring.
    """

    def __init__(self, size=16, adv_max=31, uuid16=None):
        import asyncio
        from array import array

        import bluetooth

        self._size = size
        self._adv_max = adv_max
        self._uuid = uuid16
        self._addr = bytearray(6 * size)
        self._rssi = array("i", [0] * size)
        self._len = bytearray(size)
        self._adv = bytearray(adv_max * size)
        self._head = 0
        self._tail = 0
        self.dropped = 0
        self.scanning = False
        self.flag = asyncio.ThreadSafeFlag()
        self.ble = bluetooth.BLE()
        self.ble.active(True)
        self.ble.irq(self._irq)

    def start(self, duration_ms=0, interval_us=100_000, window_us=100_000):
        """Scan passively; duration 0 scans until stop(). A window equal to the interval
        listens all the time, which a mains-powered hub can afford."""
        self.scanning = True
        self.ble.gap_scan(duration_ms, interval_us, window_us, False)

    def stop(self):
        # None stops a scan (documented), though the stubs only admit an int.
        self.ble.gap_scan(None)  # pyright: ignore[reportArgumentType]

    def _wanted(self, adv):
        # Walk the AD structures (length, type, data...) looking for the service UUID.
        n = len(adv)
        i = 0
        while i + 3 < n and adv[i]:
            end = i + 1 + adv[i]
            if (
                adv[i + 1] == _AD_SERVICE_DATA_16
                and end <= n
                and adv[i + 2] | (adv[i + 3] << 8) == self._uuid
            ):
                return True
            i = end
        return False

    def _irq(self, event, data):
        if event == _IRQ_SCAN_DONE:
            self.scanning = False
            self.flag.set()
            return
        if event != _IRQ_SCAN_RESULT:
            return
        addr = data[1]
        adv = data[4]
        n = len(adv)
        if n > self._adv_max or (self._uuid is not None and not self._wanted(adv)):
            return
        nxt = (self._head + 1) % self._size
        if nxt == self._tail:
            self.dropped += 1
            return
        h = self._head
        for j in range(6):
            self._addr[6 * h + j] = addr[j]
        o = self._adv_max * h
        for j in range(n):
            self._adv[o + j] = adv[j]
        self._len[h] = n
        self._rssi[h] = data[3]
        self._head = nxt
        self.flag.set()

    def get(self):
        """The oldest result as (addr bytes, rssi, adv bytes), or None."""
        t = self._tail
        if t == self._head:
            return None
        o = self._adv_max * t
        res = (
            bytes(self._addr[6 * t : 6 * t + 6]),
            self._rssi[t],
            bytes(self._adv[o : o + self._len[t]]),
        )
        self._tail = (t + 1) % self._size
        return res
