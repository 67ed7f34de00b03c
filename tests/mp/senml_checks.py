# MicroPython: SenML-CBOR build/resolve/validate as the hub runs it. Prints OK.

from protocol import cbor, senml
from protocol.errors import SenMLError

h = bytes.fromhex

# RFC 8428 §6: the CBOR example (voltage, then six currents with bt/bu/bver).
RFC8428_S6 = h(
    "87a721781b75726e3a6465763a6f773a3130653230373361303130383030363a22fb41d303a15b00106223"
    "614120050067766f6c7461676501615602fb405e066666666666a3006763757272656e74062402fb3ff333"
    "3333333333a3006763757272656e74062302fb3ff4cccccccccccda3006763757272656e74062202fb3ff6"
    "666666666666a3006763757272656e74062102f93e00a3006763757272656e74062002fb3ff999999999999a"
    "a3006763757272656e74060002fb3ffb333333333333"
)
recs = senml.decode(RFC8428_S6)
bt = 1276020076.001
assert len(recs) == 7
assert recs[0] == {"n": "urn:dev:ow:10e2073a0108006:voltage", "t": bt, "u": "V", "v": 120.1}
for i, r in enumerate(recs[1:]):
    assert r["n"] == "urn:dev:ow:10e2073a0108006:current", r
    assert r["t"] == bt + (i - 5) and r["u"] == "A", r
assert [r["v"] for r in recs[1:]] == [1.2, 1.3, 1.4, 1.5, 1.6, 1.7]

# Every kind round-trips, and zero, false and time 0 survive.
values = {"vb": False, "v": 0, "vs": "press"}
sent = []
for kind in senml.KINDS:
    field = senml.KINDS[kind][0]
    sent.append(senml.reading("s1", kind, values[field], t=0))
got = senml.decode(senml.encode(sent, bn=senml.base_name("hub-7"), bt=1800000000))
assert len(got) == len(senml.KINDS)
for i, r in enumerate(got):
    rec = sent[i]
    hub, sensor, kind = senml.split_name(r["n"])
    assert (hub, sensor) == ("hub-7", "s1") and rec["n"] == "s1/" + kind
    field, unit = senml.KINDS[kind]
    assert r[field] == values[field] and type(r[field]) is type(values[field])
    assert r["t"] == 1800000000
    assert r.get("u") == unit

# Relative times resolve against the receiver's clock when it is given.
assert senml.decode(cbor.dumps([{0: "a", 2: 1, 6: -10}]), now=2000000000)[0]["t"] == 1999999990

BAD = [
    {0: "a"},  # not an array
    [{0: "a"}],  # no value
    [{0: "a", 2: 1, 4: True}],  # two values
    [{0: "-a", 2: 1}],  # bad first character
    [{0: "a b", 2: 1}],  # bad character
    [{2: 1}],  # no name at all
    [{0: "a", 2: 1, "x_": 1}],  # must-understand field
    [{-1: 11, 0: "a", 2: 1}],  # newer SenML version
    [{0: "a", 4: 1}],  # vb not a boolean
    [{0: "a", 2: True}],  # v not a number
]
for bad in BAD:
    try:
        senml.decode(cbor.dumps(bad))
    except SenMLError:
        continue
    raise AssertionError(repr(bad))
try:
    senml.decode(b"\xff")
    raise AssertionError("bad CBOR accepted")
except SenMLError:
    pass
print("OK")
