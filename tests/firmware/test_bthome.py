"""BTHome v2: the hub's decoder against the documentation's examples and the emulator's
encoder, replay and forgery rejection, and the same decoding on MicroPython."""

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.bthome_sensor import BUTTON_EVENTS, BTHomeSensor, encode_objects
from tests.mpy import ROOT, run_micropython

sys.path.insert(0, str(ROOT / "firmware"))  # on the hub the package is `hub`

from hub import bthome  # noqa: E402
from hub.bthome import Receiver, parse, service_data  # noqa: E402

h = bytes.fromhex

# https://bthome.io/encryption: temperature 25.06 and humidity 50.55 (02CA09 03BF13),
# key 231d39c1d7cc1ab1aee224cd096db932, MAC 54:48:E6:8F:80:A5, counter bytes 00112233.
DOC_KEY = h("231d39c1d7cc1ab1aee224cd096db932")
DOC_MAC = h("5448E68F80A5")
DOC_SERVICE_DATA = h("41a47266c95f730011223378237214")
DOC_ADV = h("020106") + h("1216d2fc") + DOC_SERVICE_DATA


def test_encryption_example_decodes():
    rx = Receiver()
    rx.add(DOC_MAC, DOC_KEY)
    assert rx.feed(DOC_MAC, DOC_ADV) == [(bthome.TEMPERATURE, 25.06), (bthome.HUMIDITY, 50.55)]
    assert rx.counter(DOC_MAC) == 0x33221100


def test_encryption_example_encodes_to_the_same_bytes():
    sensor = BTHomeSensor("54:48:E6:8F:80:A5", key=DOC_KEY, counter=0x33221100)
    sd = sensor.service_data([("temperature", 25.06), ("humidity", 50.55)], packet_id=False)
    assert sd == DOC_SERVICE_DATA
    assert encode_objects([("humidity", 50.55), ("temperature", 25.06)]) == h("02CA0903BF13")


def test_plain_example_from_the_format_docs():
    # bthome-ble issue #118, split up by its maintainer: 40 003f 015e 028208 03ac17 0c830b.
    assert parse(h("40003f015e02820803ac170c830b"), None, 1) == [
        (bthome.PACKET_ID, 63),
        (bthome.BATTERY, 94),
        (bthome.TEMPERATURE, 21.78),
        (bthome.HUMIDITY, 60.6),
        (bthome.VOLTAGE, 2.947),
    ]


# Examples from the object table at https://bthome.io/format.
@pytest.mark.parametrize(
    ("data", "value"),
    [
        ("0161", 97),
        ("02CA09", 25.06),
        ("03BF13", 50.55),
        ("04138A01", 1008.83),
        ("05138A14", 13460.67),
        ("08CA06", 17.38),
        ("0960", 96),
        ("0A138A14", 1346.067),
        ("0B021B00", 69.14),
        ("0C020C", 3.074),
        ("0D120C", 3090),
        ("12E204", 1250),
        ("14020C", 30.74),
        ("2E23", 35),
        ("2F23", 35),
        ("3D0960", 24585),
        ("3E2A2C0960", 1611213866),
        ("3F020C", 307.4),
        ("400C00", 12),
        ("414E00", 7.8),
        ("424E3400", 13.39),
        ("434E34", 13.39),
        ("45CA09", 250.6),
        ("4B138A14", 1346.067),
        ("4C41018A01", 25821.505),
        ("4D12138A14", 344593.17),
        ("57EA", -22),
        ("58EA", -7.7),
        ("5A0CFF", -244),
    ],
)
def test_object_table_examples(data, value):
    ((oid, got),) = parse(h(data))
    assert oid == h(data)[0]
    assert got == pytest.approx(value, abs=1e-9)


def test_binary_sensors_and_button_events():
    got = parse(h("11011A002101230129012D010F013A013A043A80"))
    assert got == [
        (bthome.OPENING, 1),
        (bthome.DOOR, 0),
        (bthome.MOTION, 1),
        (bthome.OCCUPANCY, 1),
        (bthome.SMOKE, 1),
        (bthome.WINDOW, 1),
        (bthome.GENERIC, 1),
        (bthome.BUTTON, bthome.PRESS),
        (bthome.BUTTON, bthome.LONG_PRESS),
        (bthome.BUTTON, bthome.HOLD_PRESS),
    ]


def test_text_raw_and_device_info_objects():
    assert parse(h("5304") + b"hall" + h("5402cafe") + h("F0 0100 F2 010203")) == [
        (0x53, b"hall"),
        (0x54, h("cafe")),
        (0xF0, 1),
        (0xF2, 0x030201),
    ]


def test_unknown_object_ends_parsing_but_keeps_what_came_before():
    assert parse(h("01617F010202")) == [(bthome.BATTERY, 97)]


def test_truncated_object_is_dropped():
    assert parse(h("016102CA")) == [(bthome.BATTERY, 97)]
    assert parse(h("016153056869")) == [(bthome.BATTERY, 97)]


def test_service_data_found_among_other_ad_structures():
    name = b"\x05\x09hall"
    other = h("05160f186464")  # battery service data: not BTHome
    adv = h("020106") + name + other + h("0616d2fc402101")
    assert bytes(service_data(adv)) == h("402101")
    assert service_data(h("020106") + other) is None
    assert service_data(h("0201060916d2fc40")) is None  # claims more than there is


def plain(mac="A4:C1:38:00:00:01", **kw):
    sensor = BTHomeSensor(mac, **kw)
    rx = Receiver()
    rx.add(sensor.mac, sensor.key)
    return sensor, rx


@pytest.mark.parametrize("event", sorted(BUTTON_EVENTS))
@pytest.mark.parametrize("key", [None, bytes(range(16))], ids=["plain", "encrypted"])
def test_button_round_trip(event, key):
    sensor, rx = plain(key=key)
    got = rx.feed(sensor.mac, sensor.button(event, battery=88))
    assert got == [(0, 0), (bthome.BATTERY, 88), (bthome.BUTTON, BUTTON_EVENTS[event])]


@pytest.mark.parametrize("key", [None, bytes(range(16))], ids=["plain", "encrypted"])
def test_door_window_motion_climate_round_trip(key):
    sensor, rx = plain(key=key, trigger_based=True)
    assert rx.feed(sensor.mac, sensor.door(True))[1:] == [(bthome.DOOR, 1)]
    assert rx.feed(sensor.mac, sensor.window(False))[1:] == [(bthome.WINDOW, 0)]
    assert rx.feed(sensor.mac, sensor.motion(True, illuminance=120.5))[1:] == [
        (bthome.ILLUMINANCE, 120.5),
        (bthome.MOTION, 1),
    ]
    got = rx.feed(sensor.mac, sensor.climate(-3.25, 81.5, battery=5))
    assert got[1:] == [(bthome.BATTERY, 5), (bthome.TEMPERATURE, -3.25), (bthome.HUMIDITY, 81.5)]
    assert rx.rejected == 0


def test_mac_in_payload_identifies_the_sensor_whatever_address_sent_it():
    sensor, rx = plain(key=DOC_KEY, mac_included=True)
    adv = sensor.door(True)
    assert rx.feed(h("7a0000000001"), adv)[1:] == [(bthome.DOOR, 1)]  # a random address


def test_repeats_are_dropped_silently():
    sensor, rx = plain()
    adv = sensor.door(True)
    assert rx.feed(sensor.mac, adv) is not None
    assert rx.feed(sensor.mac, adv) is None
    assert rx.feed(sensor.mac, sensor.door(False))[1:] == [(bthome.DOOR, 0)]
    esensor, erx = plain(key=DOC_KEY)
    adv = esensor.door(True)
    assert erx.feed(esensor.mac, adv) is not None
    assert erx.feed(esensor.mac, adv) is None
    assert rx.rejected == erx.rejected == 0


def test_replayed_older_advertisement_is_rejected():
    sensor, rx = plain(key=DOC_KEY)
    old = sensor.button("press")
    new = sensor.button("double_press")
    assert rx.feed(sensor.mac, new) is not None
    assert rx.feed(sensor.mac, old) is None
    assert rx.rejected == 1
    assert rx.last_error == (sensor.mac, "counter went back (replay)")


def test_counter_kept_across_reboot_still_blocks_replays():
    sensor, rx = plain(key=DOC_KEY, counter=500)
    first = sensor.button("press")
    rx.feed(sensor.mac, first)
    rebooted = Receiver()
    rebooted.add(sensor.mac, DOC_KEY, rx.counter(sensor.mac))
    assert rebooted.feed(sensor.mac, first) is None
    assert rebooted.feed(sensor.mac, sensor.button("press")) is not None


def test_wrong_key_or_tampering_is_rejected():
    sensor, rx = plain(key=DOC_KEY)
    adv = bytearray(sensor.door(True))
    adv[10] ^= 1
    assert rx.feed(sensor.mac, bytes(adv)) is None
    other = Receiver()
    other.add(sensor.mac, bytes(16))
    assert other.feed(sensor.mac, sensor.door(True)) is None
    for r in (rx, other):
        assert r.rejected == 1
        assert r.last_error[1].startswith("MIC does not verify")


def test_plain_advertisement_from_a_keyed_sensor_is_rejected():
    # Otherwise anyone could open a door or press a button by sending plain adverts.
    rx = Receiver()
    rx.add(DOC_MAC, DOC_KEY)
    attacker = BTHomeSensor(DOC_MAC)
    assert rx.feed(DOC_MAC, attacker.door(True)) is None
    assert rx.last_error == (DOC_MAC, "plain advertisement from a sensor with a key")


def test_encrypted_advertisement_without_key_and_other_versions_are_rejected():
    rx = Receiver()
    rx.add(DOC_MAC)
    assert rx.feed(DOC_MAC, DOC_ADV) is None
    adv = bytearray(BTHomeSensor(DOC_MAC).door(True))
    adv[7] = 0x20  # BTHome v1 info byte
    assert rx.feed(DOC_MAC, bytes(adv)) is None
    assert rx.rejected == 2


def test_unknown_sensors_are_ignored():
    rx = Receiver()
    assert rx.feed(DOC_MAC, DOC_ADV) is None
    rx.add(DOC_MAC, DOC_KEY)
    rx.remove(DOC_MAC)
    assert rx.feed(DOC_MAC, DOC_ADV) is None
    assert rx.rejected == 0


@given(st.binary(max_size=40))
def test_garbage_never_raises(adv):
    rx = Receiver()
    rx.add(DOC_MAC, DOC_KEY)
    mac2 = h("A4C138000001")
    rx.add(mac2)
    for data in (adv, h("020106") + bytes((len(adv) + 3, 0x16, 0xD2, 0xFC)) + adv):
        for mac in (DOC_MAC, mac2):
            got = rx.feed(mac, data)
            assert got is None or isinstance(got, list)
        assert isinstance(parse(data), list)


def test_on_micropython():
    # The same decoding on the hub: AES-CCM over cryptolib, plain parsing, replay check.
    sensor = BTHomeSensor(DOC_MAC, key=DOC_KEY, counter=7)
    adv1, adv2 = sensor.button("press"), sensor.climate(21.5, 40.25)
    code = f"""
from hub.bthome import Receiver, parse
rx = Receiver()
rx.add({DOC_MAC!r}, {DOC_KEY!r})
print(rx.feed({DOC_MAC!r}, {adv1!r}))
print(rx.feed({DOC_MAC!r}, {adv2!r}))
print(rx.feed({DOC_MAC!r}, {DOC_ADV!r}))
print(rx.feed({DOC_MAC!r}, {adv1!r}), rx.rejected, rx.last_error[1])
print(parse(bytes.fromhex("40003f015e02820803ac170c830b"), None, 1))
"""
    res = run_micropython(code, paths=["firmware"])
    assert res.status == 0, res.output
    assert res.output.splitlines() == [
        "[(0, 0), (58, 1)]",
        "[(0, 1), (2, 21.5), (3, 40.25)]",
        "[(2, 25.06), (3, 50.55)]",
        "None 1 counter went back (replay)",
        "[(0, 63), (1, 94), (2, 21.78), (3, 60.6), (12, 2.947)]",
    ]
