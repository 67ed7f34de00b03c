"""BTHome v2 battery sensors for the emulator: real advertisement bytes, plain or encrypted.

    button = BTHomeSensor("A4:C1:38:00:00:01", key=bytes(16))
    adv = button.button("press")        # flags AD + service data AD, <= 31 bytes
    door = BTHomeSensor("A4:C1:38:00:00:02")
    adv = door.door(opened=True)

Each advertisement carries a packet id that increases (object 0x00) unless packet_id=False;
an encrypted one also carries a counter that increases, as BTHome requires. The object
table below is written from https://bthome.io/format on its own, apart from the hub's
decoder, so that round trips check one against the other.
"""

from cryptography.hazmat.primitives.ciphers.aead import AESCCM

# name: (object id, size in bytes (0: text/raw with a length byte), signed, factor)
OBJECTS = {
    "packet_id": (0x00, 1, False, 1),
    "battery": (0x01, 1, False, 1),
    "temperature": (0x02, 2, True, 0.01),
    "humidity": (0x03, 2, False, 0.01),
    "pressure": (0x04, 3, False, 0.01),
    "illuminance": (0x05, 3, False, 0.01),
    "dewpoint": (0x08, 2, True, 0.01),
    "count": (0x09, 1, False, 1),
    "voltage": (0x0C, 2, False, 0.001),
    "generic": (0x0F, 1, False, 1),
    "opening": (0x11, 1, False, 1),
    "co2": (0x12, 2, False, 1),
    "moisture": (0x14, 2, False, 0.01),
    "battery_low": (0x15, 1, False, 1),
    "door": (0x1A, 1, False, 1),
    "gas": (0x1C, 1, False, 1),
    "wet": (0x20, 1, False, 1),
    "motion": (0x21, 1, False, 1),
    "occupancy": (0x23, 1, False, 1),
    "presence": (0x25, 1, False, 1),
    "smoke": (0x29, 1, False, 1),
    "tamper": (0x2B, 1, False, 1),
    "window": (0x2D, 1, False, 1),
    "humidity_int": (0x2E, 1, False, 1),
    "moisture_int": (0x2F, 1, False, 1),
    "button": (0x3A, 1, False, 1),
    "count_u32": (0x3E, 4, False, 1),
    "temperature_01": (0x45, 2, True, 0.1),
    "voltage_01": (0x4A, 2, False, 0.1),
    "timestamp": (0x50, 4, False, 1),
    "text": (0x53, 0, False, 1),
    "raw": (0x54, 0, False, 1),
    "temperature_035": (0x58, 1, True, 0.35),
    "firmware": (0xF2, 3, False, 1),
}

BUTTON_EVENTS = {
    "none": 0x00,
    "press": 0x01,
    "double_press": 0x02,
    "triple_press": 0x03,
    "long_press": 0x04,
    "long_double_press": 0x05,
    "long_triple_press": 0x06,
    "hold_press": 0x80,
}

_UUID = b"\xd2\xfc"  # 0xFCD2, little-endian
_FLAGS_AD = b"\x02\x01\x06"  # LE general discoverable, BR/EDR not supported
_MAX_ADV = 31  # legacy advertising payload


def mac_bytes(mac):
    """'54:48:E6:8F:80:A5' (or 6 bytes) -> b'\\x54\\x48...' in printed order."""
    if isinstance(mac, str):
        mac = bytes.fromhex(mac.replace(":", ""))
    if len(mac) != 6:
        raise ValueError("a MAC address is 6 bytes")
    return bytes(mac)


def encode_objects(readings):
    """[(name, value), ...] -> object bytes, in ascending id order as BTHome v2 asks."""
    out = bytearray()
    specs = sorted(((OBJECTS[name], value) for name, value in readings), key=lambda s: s[0][0])
    for (oid, size, signed, factor), value in specs:
        out.append(oid)
        if size == 0:
            data = value.encode() if isinstance(value, str) else bytes(value)
            out.append(len(data))
            out += data
            continue
        raw = round(value / factor)
        out += raw.to_bytes(size, "little", signed=signed)  # OverflowError when out of range
    return bytes(out)


class BTHomeSensor:
    def __init__(self, mac, key=None, counter=0, trigger_based=False, mac_included=False):
        self.mac = mac_bytes(mac)
        self.key = key
        self.counter = counter  # the next encryption counter
        self.packet_id = 0  # the next packet id
        self.trigger_based = trigger_based
        self.mac_included = mac_included

    def info(self):
        """The device information byte: encryption, MAC included, trigger based, version 2."""
        return (
            (1 if self.key else 0)
            | (2 if self.mac_included else 0)
            | (4 if self.trigger_based else 0)
            | 2 << 5
        )

    def service_data(self, readings, packet_id=True):
        """Service data after the UUID: info byte, [MAC], objects or ciphertext+counter+MIC."""
        readings = list(readings)
        if packet_id:
            readings.append(("packet_id", self.packet_id))
            self.packet_id = (self.packet_id + 1) & 0xFF
        info = self.info()
        head = bytes((info,)) + (self.mac[::-1] if self.mac_included else b"")
        payload = encode_objects(readings)
        if not self.key:
            return head + payload
        counter = self.counter.to_bytes(4, "little")
        self.counter += 1
        nonce = self.mac + _UUID + bytes((info,)) + counter
        sealed = AESCCM(self.key, tag_length=4).encrypt(nonce, payload, None)
        return head + sealed[:-4] + counter + sealed[-4:]

    def advertisement(self, readings, packet_id=True):
        """A whole advertising payload: flags AD and the BTHome service data AD."""
        sd = _UUID + self.service_data(readings, packet_id)
        adv = _FLAGS_AD + bytes((len(sd) + 1, 0x16)) + sd
        if len(adv) > _MAX_ADV:
            raise ValueError(f"advertisement of {len(adv)} bytes exceeds {_MAX_ADV}")
        return adv

    # What the emulator's sensors send.

    def button(self, event="press", battery=None):
        readings = [("button", BUTTON_EVENTS[event])]
        if battery is not None:
            readings.append(("battery", battery))
        return self.advertisement(readings)

    def door(self, opened):
        return self.advertisement([("door", int(bool(opened)))])

    def window(self, opened):
        return self.advertisement([("window", int(bool(opened)))])

    def motion(self, detected, illuminance=None):
        readings = [("motion", int(bool(detected)))]
        if illuminance is not None:
            readings.append(("illuminance", illuminance))
        return self.advertisement(readings)

    def climate(self, temperature, humidity, battery=None):
        readings = [("temperature", temperature), ("humidity", humidity)]
        if battery is not None:
            readings.append(("battery", battery))
        return self.advertisement(readings)
