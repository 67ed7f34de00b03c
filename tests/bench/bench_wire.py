"""Bytes on the wire for a hub's telemetry: SenML in CBOR inside OSCORE inside CoAP,
against the same records as SenML JSON in plain CoAP, and as bare JSON.

    .venv/bin/python tests/bench/bench_wire.py
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol import coap, contentformat, options, oscore, senml  # noqa: E402

HUB = "h3b7f2c"
BASE_TIME = 1_795_000_000  # a Unix time in late 2026


def one_motion():
    return [senml.reading("pir-kitchen", "motion", True, t=0)]


def ten_readings():
    recs = [senml.reading("sht-living", "temperature", 21.5 + i / 10, t=i * 30) for i in range(5)]
    recs += [senml.reading("sht-living", "humidity", 48.0 + i, t=i * 30) for i in range(5)]
    return recs


def coap_post(payload, cf, seq):
    msg = coap.Message(coap.CON, 2, mid=0x1234, token=b"\x01\x02\x03\x04", payload=payload)
    msg.add(options.URI_PATH, "t")
    msg.add(options.CONTENT_FORMAT, cf)
    msg.add(options.URI_QUERY, "s=" + str(seq))
    return msg


def sizes(records):
    bn = senml.base_name(HUB)
    cbor_payload = senml.encode(records, bn=bn, bt=BASE_TIME)
    json_payload = json.dumps(
        [dict(r, **({"bn": bn, "bt": BASE_TIME} if i == 0 else {})) for i, r in enumerate(records)],
        separators=(",", ":"),
    ).encode()
    ctx = oscore.Context(b"\x00" * 16, b"\x01", b"", master_salt=b"\x9e" * 8)
    ctx.sender_seq = 1000  # a hub some days into its life: a 2-byte Partial IV
    plain = coap_post(cbor_payload, contentformat.SENML_CBOR, 1000).encode()
    protected, _ = ctx.protect_request(coap_post(cbor_payload, contentformat.SENML_CBOR, 1000))
    json_coap = coap_post(json_payload, contentformat.SENML_JSON, 1000).encode()
    return {
        "SenML CBOR payload": len(cbor_payload),
        "SenML JSON payload": len(json_payload),
        "CoAP + SenML CBOR": len(plain),
        "CoAP + OSCORE + SenML CBOR": len(protected.encode()),
        "CoAP + SenML JSON (no OSCORE)": len(json_coap),
    }


def main():
    for title, records in (("one motion event", one_motion()), ("10 readings", ten_readings())):
        s = sizes(records)
        print(f"{title}:")
        for k, v in s.items():
            print(f"  {k:32s} {v:5d} bytes")
        ratio = s["CoAP + OSCORE + SenML CBOR"] / s["CoAP + SenML JSON (no OSCORE)"]
        print(f"  protected CBOR / plain JSON on the wire: {ratio:.2f}")
        overhead = s["CoAP + OSCORE + SenML CBOR"] - s["SenML CBOR payload"]
        print(f"  CoAP+OSCORE overhead: {overhead} bytes (UDP/IP adds 28 more)")


if __name__ == "__main__":
    main()
