"""Fleet CoAP endpoint throughput: telemetry messages per second stored through the full
path (UDP → datagram guard → aiocoap OSCORE with the DB-backed context → validation →
database) from 100 synthetic hubs, beside aiocoap's own ceiling (an empty resource,
plain CoAP) measured in the same run, as a ratio; then datapoints per second with
10-record packs. Database work per message: commits, transactions begun and statements
(each a round trip on PostgreSQL). With --residents each hub's sensors are in a flat
with a resident, so every reading also goes through that resident's rules (the engine's
state saved with the pack); without, the rules find nobody to feed.

    .venv/bin/python tests/bench/bench_fleet_coap.py [--messages N] [--window W] [--residents]
    FLEET_BENCH_DATABASE_URL=postgresql+psycopg://… to measure on PostgreSQL (the
    database is emptied first); SQLite in a temporary directory otherwise.

The server runs in this process on one event loop, as `python -m fleet` does; the hubs
run in a child process that protects every request before the clock starts, then keeps
W requests in flight over one UDP socket, so the figure is the server's, not the client's.
"""

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aiocoap  # noqa: E402
import aiocoap.resource as resource  # noqa: E402
from sqlalchemy import event, func, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from fleet.coap import CoapServer  # noqa: E402
from fleet.db import make_engine, migrate, session  # noqa: E402
from fleet.models import (  # noqa: E402
    CLAIMED,
    Condominium,
    Flat,
    Hub,
    Reading,
    Resident,
    Sensor,
    TelemetryReceipt,
)
from fleet.secrets import seal_hub_secret  # noqa: E402
from fleet.settings import Settings  # noqa: E402
from protocol import coap, codes, options, senml  # noqa: E402
from protocol.oscore import Context  # noqa: E402

HUBS = 100
BT = 1_795_000_000


def setup_db(url, settings, residents):
    if url.startswith("postgresql"):
        eng = make_engine(url)
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        eng.dispose()
    migrate(url)
    engine = make_engine(url)
    hubs = []
    with session(engine) as db:
        condo = Condominium(name="bench")
        db.add(condo)
        db.flush()
        for i in range(HUBS):
            flat_id = None
            if residents:
                flat = Flat(condominium_id=condo.id, label=f"{i}")
                db.add(flat)
                db.flush()
                flat_id = flat.id
                db.add(Resident(flat_id=flat_id, name=f"Resident {i}", consent_date=date.today()))
            ms, salt, sid = os.urandom(16), os.urandom(8), i.to_bytes(2, "big") + b"\xb0"
            hub = Hub(
                hub_id=f"hub-{i:03d}",
                oscore_id=sid,
                secret_enc=seal_hub_secret(settings, ms, salt),
                state=CLAIMED,
            )
            db.add(hub)
            db.flush()
            for key, kind in (("t1", "temperature"), ("h1", "humidity")):
                db.add(
                    Sensor(
                        hub_id=hub.id,
                        key=key,
                        kind=kind,
                        room="living",
                        i2c_addr=68,
                        flat_id=flat_id,
                    )
                )
            hubs.append((hub.hub_id, sid, ms, salt))
        db.commit()
    return engine, hubs


def records(n, k):
    if n == 1:
        return [senml.reading("t1", "temperature", 20 + k % 50 / 10)]
    recs = [senml.reading("t1", "temperature", 20 + i / 10, t=i * 30) for i in range(n // 2)]
    recs += [senml.reading("h1", "humidity", 40.0 + i, t=i * 30) for i in range(n - n // 2)]
    return recs


def build_requests(hubs, ctxs, count, per_pack, seq0, plain):
    """Every request's datagram, ready to send; hubs take turns."""
    out = []
    for k in range(count):
        h = k % len(hubs)
        hub_id = hubs[h][0]
        payload = senml.encode(records(per_pack, k), bn=senml.base_name(hub_id), bt=BT)
        mid = k & 0xFFFF
        msg = coap.Message(coap.CON, codes.POST, mid, k.to_bytes(4, "big"), payload=payload)
        msg.add(options.URI_PATH, "t")
        msg.add(options.URI_QUERY, f"s={seq0 + k // len(hubs)}")
        if plain:
            out.append(msg.encode())
            continue
        outer, _ = ctxs[h].protect_request(msg)
        outer.mid, outer.token = mid, msg.token
        out.append(outer.encode())
    return out


def client(port, wires, window, result):
    """Send with `window` requests in flight; result gets (answers, ok, seconds, how many
    came as separate responses: the server took longer than aiocoap's empty-ACK delay)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    sock.connect(("127.0.0.1", port))
    # Long enough for a server slowed by a busy machine; the clock stops at the last answer.
    sock.settimeout(10.0)
    sent = answered = ok = separate = 0
    start = last = time.perf_counter()
    while sent < min(window, len(wires)):
        sock.send(wires[sent])
        sent += 1
    while answered < sent:
        try:
            reply = sock.recv(2048)
        except TimeoutError:
            break  # lost on loopback: report what came back
        if reply[0] >> 4 & 3 == coap.CON:  # a separate response: acknowledge it
            sock.send(coap.Message(coap.ACK, codes.EMPTY, reply[2] << 8 | reply[3]).encode())
            separate += 1
        if reply[1] == codes.EMPTY:
            continue  # the server's empty ACK; the response follows
        answered += 1
        last = time.perf_counter()
        ok += reply[1] == codes.CHANGED  # outer code: 2.04 for OSCORE and plain alike
        if sent < len(wires):
            sock.send(wires[sent])
            sent += 1
    result.put((answered, ok, last - start, separate))


async def run_client(port, wires, window):
    ctx = multiprocessing.get_context("fork")
    result = ctx.Queue()
    proc = ctx.Process(target=client, args=(port, wires, window, result))
    proc.start()
    answered, ok, seconds, separate = await asyncio.get_running_loop().run_in_executor(
        None, result.get
    )
    proc.join()
    return answered, ok, seconds, separate


class Empty(resource.Resource):
    async def render_post(self, request):
        return aiocoap.Message(code=aiocoap.CHANGED)


async def ceiling(hubs, count, window):
    site = resource.Site()
    site.add_resource(["t"], Empty())
    server = await aiocoap.Context.create_server_context(
        site, bind=("127.0.0.1", 0), transports=["udp6"]
    )
    port = server.request_interfaces[0].token_interface.message_interface._local_port()
    try:
        wires = build_requests(hubs, None, count, 1, 0, plain=True)
        return await run_client(port, wires, window)
    finally:
        await server.shutdown()


async def main(args):
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("FLEET_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        settings = Settings(
            database_url=url,
            secret_key="bench-secret-key-0123456789-0123456789",
            coap_port=0,
            hub_rate_per_s=1e6,
            hub_rate_burst=10**6,
        )
        engine, hubs = setup_db(url, settings, args.residents)
        n, w = args.messages, args.window
        print(
            f"{HUBS} hubs{' with a resident each' if args.residents else ''}, {n} requests per "
            f"run, {w} in flight, database {url.split(':')[0]}"
        )
        answered, _, secs, _ = await ceiling(hubs, n, w)
        plain = answered / secs
        print(f"aiocoap no-op ceiling (plain CoAP, empty resource): {plain:8.0f} responses/s")
        db_work = Counter()
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, lambda _conn, name=name: db_work.update((name,)))
        event.listen(engine, "before_cursor_execute", lambda *_: db_work.update(("statement",)))
        server = CoapServer(settings, engine)
        port = await server.start()
        try:
            ctxs = [Context(ms, sid, b"", salt) for _, sid, ms, salt in hubs]
            wires = build_requests(hubs, ctxs, n, 1, 0, plain=False)
            db_work.clear()
            answered, ok, secs, separate = await run_client(port, wires, w)
            full = ok / secs
            print(f"telemetry, 1 record, OSCORE -> validate -> DB: {full:8.0f} messages/s")
            print(f"  ratio to the no-op ceiling: {full / plain:.2f} ({ok}/{n} stored 2.04)")
            per = {k: v / max(1, ok) for k, v in db_work.items()}
            print(
                f"  per message: {per.get('commit', 0):.2f} commits, "
                f"{per.get('begin', 0):.2f} transactions begun, "
                f"{per.get('statement', 0):.2f} statements"
            )
            print(f"  separate responses (empty ACK first): {separate}")
            wires = build_requests(hubs, ctxs, n, 10, 10**6, plain=False)
            answered, ok10, secs, _ = await run_client(port, wires, w)
            print(
                f"telemetry, 10-record packs: {ok10 / secs:8.0f} messages/s, "
                f"{10 * ok10 / secs:8.0f} datapoints/s"
            )
        finally:
            await server.stop()
        with session(engine) as db:
            receipts = db.exec(select(func.count()).select_from(TelemetryReceipt)).one()
            readings = db.exec(select(func.count()).select_from(Reading)).one()
        print(
            f"stored: {receipts} packs, {readings} readings (expected {ok + ok10}, "
            f"{ok + 10 * ok10})"
        )
        engine.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--profile", help="write a cProfile of the server process here")
    ap.add_argument("--residents", action="store_true", help="every hub's flat has a resident")
    args = ap.parse_args()
    if args.profile:
        import cProfile

        cProfile.run("asyncio.run(main(args))", args.profile)
    else:
        asyncio.run(main(args))
