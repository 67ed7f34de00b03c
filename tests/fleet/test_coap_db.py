"""The CoAP endpoint's use of the database: a hub's requests are stored in the order they
arrive (on PostgreSQL its database work runs on a thread of its own), and a pooled
PostgreSQL connection that died while idle is replaced before a request uses it."""

import asyncio
import time

import pytest
from aiocoap.numbers.codes import Code
from sqlalchemy import text
from sqlmodel import select

from fleet import db as fleet_db
from fleet.db import session
from fleet.models import Event
from protocol import senml
from tests.fleet.coap_support import RawHub, add_hub, aiocoap_context, make_settings, pack, running
from tests.fleet.conftest import BACKENDS


async def test_a_hubs_pipelined_requests_are_stored_in_order(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            sent = []
            for s in range(1, 21):  # twenty in flight at once, door open/shut
                body = pack("hub-a", senml.reading("door", "door", s % 2 == 0))
                sent.append(hub.protect(Code.POST, "t", body, query=(f"s={s}",)))
            loop = asyncio.get_running_loop()
            for wire, _ in sent:
                await loop.sock_sendall(hub.sock, wire)
            answered = set()
            while len(answered) < len(sent):
                reply = await asyncio.wait_for(loop.sock_recv(hub.sock, 2048), 10)
                if reply[0] >> 4 & 3 == 0:  # a separate (CON) response: acknowledge it
                    ack = bytes((0x60, 0)) + reply[2:4]
                    await loop.sock_sendall(hub.sock, ack)
                if reply[1] != 0:  # not an empty ACK
                    answered.add(reply[4 : 4 + (reply[0] & 15)])  # by token
        finally:
            hub.close()
    with session(engine) as db:
        events = db.exec(select(Event).order_by(Event.id)).all()
    assert [e.seq for e in events] == list(range(1, 21))
    assert [e.state for e in events] == [s % 2 == 0 for s in range(1, 21)]


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b == "postgresql"])
def test_an_idle_connection_the_server_dropped_is_replaced(backend, request, monkeypatch):
    url = request.getfixturevalue("pg_database")
    monkeypatch.setattr(fleet_db, "IDLE_PING_S", 0.2)
    engine = fleet_db.make_engine(url)
    killer = fleet_db.make_engine(url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with killer.connect() as conn:  # as a server restart would
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.3)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()
        killer.dispose()
