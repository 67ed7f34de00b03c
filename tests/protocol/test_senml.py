"""protocol.senml: RFC 8428 CBOR packs as the hub builds them and the fleet resolves them."""

import runpy
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import cbor, senml
from protocol.errors import SenMLError

h = bytes.fromhex
MP_SCRIPT = Path(__file__).resolve().parents[1] / "mp" / "senml_checks.py"
BN = "urn:dev:ow:10e2073a0108006:"

# RFC 8428 §6: the CBOR representation of the §5.1.2-style voltage/current pack.
RFC8428_S6 = h(
    "87a721781b75726e3a6465763a6f773a3130653230373361303130383030363a22fb41d303a15b00106223"
    "614120050067766f6c7461676501615602fb405e066666666666a3006763757272656e74062402fb3ff333"
    "3333333333a3006763757272656e74062302fb3ff4cccccccccccda3006763757272656e74062202fb3ff6"
    "666666666666a3006763757272656e74062102f93e00a3006763757272656e74062002fb3ff999999999999a"
    "a3006763757272656e74060002fb3ffb333333333333"
)


def test_rfc8428_section6_example_resolves():
    bt = 1276020076.001
    currents = [
        {"n": BN + "current", "t": bt + t, "u": "A", "v": v}
        for t, v in zip(range(-5, 1), [1.2, 1.3, 1.4, 1.5, 1.6, 1.7], strict=True)
    ]
    assert (
        senml.decode(RFC8428_S6)
        == [{"n": BN + "voltage", "t": bt, "u": "V", "v": 120.1}] + currents
    )


def test_rfc8428_section6_example_survives_our_encoder():
    # Re-encode the raw pack (bver 5 and all): same records, whatever the byte order.
    raw = cbor.loads(RFC8428_S6)
    assert senml.resolve(cbor.loads(cbor.dumps(raw))) == senml.decode(RFC8428_S6)


def test_runs_on_micropython():
    from tests.mpy import run_micropython

    res = run_micropython(path=MP_SCRIPT, heapsize="100K")
    assert res.status == 0, res.output
    assert res.output.strip() == "OK"


def test_micropython_script_also_passes_on_cpython(capsys):
    runpy.run_path(str(MP_SCRIPT))
    assert capsys.readouterr().out.strip() == "OK"


def test_hub_pack_round_trip_with_zero_values_and_time_zero():
    recs = [
        senml.reading("kitchen-pir", "motion", True, t=-30),
        senml.reading("bath", "temperature", 0, t=0),
        senml.reading("bath", "humidity", 55.5),
        senml.reading("entrance", "door", False, t=0),
        senml.reading("hub", "rssi", -100),
    ]
    bt = 1_800_000_000
    got = senml.decode(senml.encode(recs, bn=senml.base_name("a1b2c3"), bt=bt))
    assert got == [
        {"n": "urn:dev:hub:a1b2c3:kitchen-pir/motion", "t": bt - 30, "vb": True},
        {"n": "urn:dev:hub:a1b2c3:bath/temperature", "t": bt, "u": "Cel", "v": 0},
        {"n": "urn:dev:hub:a1b2c3:bath/humidity", "t": bt, "u": "%RH", "v": 55.5},
        {"n": "urn:dev:hub:a1b2c3:entrance/door", "t": bt, "vb": False},
        {"n": "urn:dev:hub:a1b2c3:hub/rssi", "t": bt, "u": "dBW", "v": -100},
    ]


def test_time_zero_and_value_zero_are_on_the_wire():
    pk = senml.pack([{"n": "a", "v": 0, "t": 0, "s": 0}])
    assert pk == [{senml.N: "a", senml.V: 0, senml.T: 0, senml.S: 0}]


def test_base_fields_apply_until_changed():
    pk = [
        {senml.BN: "x:", senml.BT: 100, senml.BU: "W", senml.BV: 10, senml.BS: 1000, 0: "a", 2: 1},
        {0: "b", 2: 2, 6: 5, 5: 3},
        {senml.BN: "y:", 0: "c", 2: 3, 1: "V"},
        {senml.BT: 200, senml.BV: 0, 0: "d", 2: 4},
    ]
    assert senml.resolve(pk) == [
        {"n": "x:a", "t": 100, "u": "W", "v": 11},
        {"n": "x:b", "t": 105, "u": "W", "v": 12, "s": 1003},
        {"n": "y:c", "t": 100, "u": "V", "v": 13},
        {"n": "y:d", "t": 200, "u": "W", "v": 4},
    ]


def test_relative_times_resolve_against_now_only_when_given():
    pk = [{0: "a", 2: 1, 6: -10}, {0: "b", 2: 1}, {0: "c", 2: 1, 6: 1_800_000_000}]
    assert [r["t"] for r in senml.resolve(pk)] == [-10, 0, 1_800_000_000]
    assert [r["t"] for r in senml.resolve(pk, now=1_900_000_000)] == [
        1_899_999_990,
        1_900_000_000,
        1_800_000_000,
    ]


def test_sum_only_record_and_update_time_are_valid():
    assert senml.resolve([{0: "meter", 5: 0, 7: 60}]) == [{"n": "meter", "t": 0, "s": 0, "ut": 60}]


def test_unknown_fields_are_ignored_but_must_understand_fields_refused():
    assert senml.resolve([{0: "a", 2: 1, "foo": 1, 99: 2}]) == [{"n": "a", "t": 0, "v": 1}]
    with pytest.raises(SenMLError):
        senml.resolve([{0: "a", 2: 1, "foo_": 1}])


def test_version_ten_and_below_accepted_newer_or_mixed_refused():
    assert senml.resolve([{senml.BVER: 10, 0: "a", 2: 1}])
    for pk in ([{senml.BVER: 11, 0: "a", 2: 1}], [{-1: 5, 0: "a", 2: 1}, {-1: 6, 0: "b", 2: 1}]):
        with pytest.raises(SenMLError):
            senml.resolve(pk)


BAD_PACKS = {
    "not an array": {0: "a", 2: 1},
    "record not a map": [[0, "a"]],
    "no value and no sum": [{0: "a"}],
    "two values": [{0: "a", 2: 1, 3: "x"}],
    "no name": [{2: 1}],
    "name starts with dash": [{0: "-a", 2: 1}],
    "name with space": [{0: "a b", 2: 1}],
    "name with non-ascii letter": [{0: "caff\u00e8", 2: 1}],
    "bad base name makes bad name": [{-2: "#", 0: "a", 2: 1}],
    "v is text": [{0: "a", 2: "1"}],
    "v is bool": [{0: "a", 2: True}],
    "v is NaN": [{0: "a", 2: float("nan")}],
    "t is infinite": [{0: "a", 2: 1, 6: float("inf")}],
    "vb is an integer": [{0: "a", 4: 1}],
    "vd is text": [{0: "a", 8: "aGk"}],
    "vs is bytes": [{0: "a", 3: b"x"}],
    "n is an integer": [{0: 1, 2: 1}],
    "bver is zero": [{-1: 0, 0: "a", 2: 1}],
    "bver is a float": [{-1: 10.0, 0: "a", 2: 1}],
    "negative update time": [{0: "a", 2: 1, 7: -1}],
}


@pytest.mark.parametrize("pk", BAD_PACKS.values(), ids=BAD_PACKS.keys())
def test_bad_packs_raise_senml_error(pk):
    with pytest.raises(SenMLError):
        senml.decode(cbor.dumps(pk))


def test_bad_cbor_raises_senml_error():
    for data in (b"", b"\xff", b"\x81", cbor.dumps([{0: "a", 2: 1}]) + b"\x00"):
        with pytest.raises(SenMLError):
            senml.decode(data)


def test_reading_checks_kind_id_and_value_type():
    assert senml.reading("bed-1", "bed", True) == {"n": "bed-1/bed", "vb": True}
    assert senml.reading("b", "battery", 0, t=0) == {"n": "b/battery", "v": 0, "u": "%EL", "t": 0}
    for args in (
        ("s", "door", 1),  # door state must be a bool, not 1
        ("s", "temperature", True),
        ("s", "teleport", 1),
        ("a/b", "motion", True),
        ("a:b", "motion", True),
        ("", "motion", True),
    ):
        with pytest.raises(SenMLError):
            senml.reading(*args)


def test_pack_refuses_unknown_fields_and_skips_none():
    assert senml.pack([{"n": "a", "v": 1, "t": None}]) == [{0: "a", 2: 1}]
    with pytest.raises(SenMLError):
        senml.pack([{"n": "a", "v": 1, "value": 2}])
    with pytest.raises(SenMLError):
        senml.pack([{"n": "a"}])


def test_names_split_into_hub_sensor_and_kind():
    name = senml.base_name("h-1") + "kitchen.pir/motion"
    assert senml.split_name(name) == ("h-1", "kitchen.pir", "motion")
    for bad in (
        "urn:dev:ow:1:a/motion",
        "urn:dev:hub:h1:a",
        "urn:dev:hub:h1:a/b/c",
        "urn:dev:hub:a:b:c/d",
    ):
        with pytest.raises(SenMLError):
            senml.split_name(bad)


def test_kinds_table_is_consistent():
    for kind, (field, unit) in senml.KINDS.items():
        assert field in ("v", "vb", "vs")
        assert (unit is not None) == (field == "v"), kind


# ---- properties --------------------------------------------------------------------

IDS = st.from_regex(r"[A-Za-z0-9][-._A-Za-z0-9]{0,10}", fullmatch=True)
NUMBERS = st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def hub_readings(draw):
    out = []
    for kind in draw(st.lists(st.sampled_from(sorted(senml.KINDS)), max_size=6)):
        field = senml.KINDS[kind][0]
        value = {"vb": st.booleans(), "vs": st.text(max_size=8), "v": NUMBERS}[field]
        t = draw(st.none() | st.integers(-86400, 0))
        out.append(senml.reading(draw(IDS), kind, draw(value), t=t))
    return out


@given(hub_readings(), IDS, st.integers(2**28, 2**32))
def test_any_hub_pack_round_trips(recs, hub, bt):
    got = senml.decode(senml.encode(recs, bn=senml.base_name(hub), bt=bt))
    assert len(got) == len(recs)
    for rec, r in zip(recs, got, strict=True):
        assert r["n"] == senml.base_name(hub) + rec["n"]
        assert r["t"] == bt + rec.get("t", 0)
        for field in ("v", "vb", "vs", "u"):
            assert r.get(field) == rec.get(field)
            assert type(r.get(field)) is type(rec.get(field))


ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-8, 10)
    | st.floats()
    | st.text(max_size=4)
    | st.binary(max_size=4),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(st.integers(-8, 10) | st.text(max_size=3), c, max_size=5)
    ),
    max_leaves=30,
)


@given(ANY)
def test_arbitrary_values_raise_only_senml_error(obj):
    try:
        resolved = senml.resolve(obj)
    except SenMLError:
        return
    for r in resolved:
        senml._check_name(r["n"])


@given(hub_readings(), st.data())
def test_corrupted_packs_raise_only_senml_error(recs, data):
    wire = bytearray(senml.encode(recs, bn=senml.base_name("h")))
    i = data.draw(st.integers(0, len(wire) - 1))
    wire[i] = data.draw(st.integers(0, 255))
    try:
        senml.decode(bytes(wire))
    except SenMLError:
        pass
