"""Random and mutated bytes into every decoder in protocol/: the only exception that may
escape is the package's own ProtocolError. Prints cases/s per decoder; exits 1 and
shows the input if anything else escapes.

    .venv/bin/python tests/bench/bench_fuzz.py [cases per decoder, default 100000]
"""

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from protocol import cbor, coap, cose, options, oscore, senml  # noqa: E402
from protocol.errors import ProtocolError  # noqa: E402


def mutate(rng, seed):
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[pos % len(data)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and data:
            del data[pos % len(data)]
        elif op == 3:
            del data[pos:]
        else:
            data[pos : pos + 1] = bytes([rng.choice((0x00, 0x17, 0x18, 0x1F, 0x7F, 0xFF))])
    return bytes(data)


def fuzz(name, decode, seeds, cases, rng):
    escaped = 0
    t0 = time.perf_counter()
    for i in range(cases):
        if i % 4 == 0:
            data = rng.randbytes(rng.randrange(64))
        else:
            data = mutate(rng, rng.choice(seeds))
        try:
            decode(data)
        except ProtocolError:
            pass
        except Exception as e:  # noqa: BLE001 — the point is to catch anything else
            escaped += 1
            if escaped == 1:
                print(f"  {name}: {type(e).__name__}: {e} on {data.hex()}")
    dt = time.perf_counter() - t0
    print(f"{name:18s} {cases:7d} cases  {cases / dt:9.0f}/s  escaped: {escaped}")
    return escaped


def oscore_server():
    # A fresh server context per input would hide replay-window state bugs; one per run.
    client = oscore.Context(b"\x11" * 16, b"\x01", b"", master_salt=b"\x22" * 8)
    server = oscore.Context(b"\x11" * 16, b"", b"\x01", master_salt=b"\x22" * 8)
    seeds = []
    for path in ("t", "hb", "c"):
        msg = coap.Message(coap.CON, 2, mid=7, token=b"\x01\x02", payload=b"\xa1\x01\x02")
        msg.add(options.URI_PATH, path)
        seeds.append(client.protect_request(msg)[0].encode())
    return (lambda data: server.unprotect_request(coap.decode(data))), seeds


def cose_case():
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    protected = cbor.dumps({1: -8})
    payload = cbor.dumps({"seq": 7, "hw": "esp32", "size": 123456})
    sig = key.sign(cbor.dumps(["Signature1", protected, b"", payload]))
    seed = cbor.dumps(cbor.Tag(18, [protected, {4: b"k1"}, payload, sig]))
    return (lambda data: cose.verify_sign1(data, [pub])), [seed]


def main():
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(8613)
    pack = senml.encode(
        [
            senml.reading("pir-kitchen", "motion", True, t=0),
            senml.reading("sht", "temperature", 21.5),
        ],
        bn=senml.base_name("h1"),
        bt=1_795_000_000,
    )
    cbor_seeds = [
        cbor.dumps(x)
        for x in (0, -1, 2**64 - 1, 1.5, "è", b"\x00", [1, [2, [3]]], {"a": {1: None}}, True)
    ] + [pack, bytes.fromhex("f97e00"), bytes.fromhex("c249010000000000000000")]
    get = coap.Message(coap.CON, 1, mid=1, token=b"\xaa")
    get.add(options.URI_PATH, "c")
    get.add(options.BLOCK2, 0x16)
    unprotect, oscore_seeds = oscore_server()
    verify, cose_seeds = cose_case()
    decoders = [
        ("cbor.loads", cbor.loads, cbor_seeds),
        ("coap.decode", coap.decode, [get.encode(), *oscore_seeds]),
        ("oscore.unprotect", unprotect, oscore_seeds),
        ("senml.decode", senml.decode, [pack]),
        ("cose.verify_sign1", verify, cose_seeds),
    ]
    escaped = sum(fuzz(name, fn, seeds, cases, rng) for name, fn, seeds in decoders)
    sys.exit(1 if escaped else 0)


if __name__ == "__main__":
    main()
