"""What the endpoint refuses: unknown and revoked hubs (also after a restart), replays
across a restart, floods from one hub, and datagrams aiocoap itself cannot parse."""

import asyncio
import logging
import socket

from aiocoap.numbers.codes import Code
from sqlmodel import select

from fleet import metrics
from fleet.coap.context import SEQ_CHUNK, HubContext, StateStore
from fleet.db import session
from fleet.models import Event, Hub
from fleet.services import enrolment
from protocol import coap, codes, options, senml
from tests.fleet.coap_support import RawHub, add_hub, aiocoap_context, make_settings, pack, running


def motion(seq_value=True):
    return pack("hub-a", senml.reading("pir1", "motion", seq_value))


async def test_unknown_hub_gets_4_01(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    stranger = dict(ident, sid=b"\x99\x99", hub="hub-a")
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "x", stranger), server.port)
        try:
            wire, _ = hub.protect(Code.POST, "t", motion(), query=("s=1",))
            resp = await hub.send_raw(wire)
            assert resp.code == Code.UNAUTHORIZED and resp.opt.oscore is None
        finally:
            hub.close()


async def test_unprotected_request_gets_4_01(db_url, engine):
    settings = make_settings(db_url)
    add_hub(engine, settings)
    async with running(settings, engine) as server:
        msg = coap.Message(coap.CON, codes.POST, 7, b"\x01\x02")
        msg.add(options.URI_PATH, "t")
        reply = await _udp(server.port, msg.encode())
    assert coap.decode(reply).code == codes.UNAUTHORIZED


async def test_revoked_hub_is_refused_at_once_and_after_a_restart(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    hub = RawHub(aiocoap_context(tmp_path / "hub", ident), 0)
    try:
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            inner, _ = await hub.request(Code.POST, "t", motion(), query=("s=1",))
            assert inner.code == Code.CHANGED  # its context is cached now
            with session(engine) as db:
                enrolment.revoke(db, db.exec(select(Hub)).one(), None, reason="stolen")
            wire, _ = hub.protect(Code.POST, "t", motion(False), query=("s=2",))
            assert (await hub.send_raw(wire)).code == Code.UNAUTHORIZED
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            wire, _ = hub.protect(Code.POST, "t", motion(False), query=("s=3",))
            assert (await hub.send_raw(wire)).code == Code.UNAUTHORIZED
    finally:
        hub.close()
    with session(engine) as db:
        assert [e.seq for e in db.exec(select(Event)).all()] == [1]


async def test_revocation_by_another_process_is_honoured(db_url, engine, tmp_path):
    # No on_revoke hook runs here: the row changed under a running server, as when a
    # tool revokes through its own connection. The resource re-reads the hub row.
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            inner, _ = await hub.request(Code.POST, "t", motion(), query=("s=1",))
            assert inner.code == Code.CHANGED
            with session(engine) as db:
                row = db.exec(select(Hub)).one()
                row.state = "revoked"
                db.add(row)
                db.commit()
            inner, _ = await hub.request(Code.POST, "t", motion(False), query=("s=2",))
            assert inner.code == Code.UNAUTHORIZED
            wire, _ = hub.protect(Code.POST, "t", motion(False), query=("s=3",))
            assert (await hub.send_raw(wire)).code == Code.UNAUTHORIZED  # context gone
        finally:
            hub.close()


async def test_a_replay_after_a_restart_is_refused_without_echo(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    hub = RawHub(aiocoap_context(tmp_path / "hub", ident), 0)
    try:
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            inner, wire = await hub.request(Code.POST, "t", motion(), query=("s=1",))
            assert inner.code == Code.CHANGED
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            resp = await hub.send_raw(wire)  # the very same datagram, to a new process
            assert resp.code == Code.UNAUTHORIZED and resp.opt.echo is None
            # The hub's next request goes through at once: no Echo round trip.
            inner, _ = await hub.request(Code.POST, "t", motion(False), query=("s=2",))
            assert inner.code == Code.CHANGED
    finally:
        hub.close()


def test_sender_numbers_are_never_handed_out_twice(db_url, engine):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    with session(engine) as db:
        pk = db.exec(select(Hub.id)).one()
    store = StateStore(engine)
    args = (store, pk, "hub-a", ident["sid"], ident["ms"], ident["salt"])
    first = HubContext(*args)
    used = [first.new_sequence_number() for _ in range(SEQ_CHUNK + 3)]
    second = HubContext(*args)  # as after a restart, or a reload beside the old one
    used += [second.new_sequence_number() for _ in range(5)]
    used += [first.new_sequence_number() for _ in range(SEQ_CHUNK)]
    assert len(set(used)) == len(used)


async def test_rate_limit_answers_4_29_with_max_age(db_url, engine, tmp_path):
    settings = make_settings(db_url, hub_rate_per_s=0.5, hub_rate_burst=3)
    ident = add_hub(engine, settings)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            got = []
            for s in range(5):
                inner, _ = await hub.request(Code.POST, "t", motion(), query=(f"s={s}",))
                got.append(inner.code)
            assert got == [Code.CHANGED] * 3 + [Code.TOO_MANY_REQUESTS] * 2
            assert inner.opt.max_age == 2  # one token comes back every 2 s
        finally:
            hub.close()
    with session(engine) as db:
        assert len(db.exec(select(Event)).all()) == 3


async def _udp(port, data, timeout=5):
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.connect(("127.0.0.1", port))
        await loop.sock_sendall(sock, data)
        return await asyncio.wait_for(loop.sock_recv(sock, 2048), timeout)


async def test_invalid_utf8_options_are_answered_without_tracebacks(
    db_url, engine, tmp_path, caplog
):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    before = metrics.rejected.value(reason="malformed")
    caplog.set_level(logging.DEBUG)
    async with running(settings, engine) as server:
        for i, (number, bad) in enumerate(
            [(options.URI_PATH, b"\xff\xfe"), (options.URI_QUERY, b"s=\xc3\x28"), (11, b"\x80")]
        ):
            msg = coap.Message(coap.CON, codes.POST, 100 + i, b"\xaa")
            msg.options.append((number, bad))  # past Message.add, which wants text
            reply = coap.decode(await _udp(server.port, msg.encode()))
            assert reply.mtype == coap.ACK and reply.mid == 100 + i
            assert reply.code == codes.BAD_OPTION and reply.token == b"\xaa"
        non = coap.Message(coap.NON, codes.GET, 200, b"")
        non.options.append((options.URI_PATH, b"\xff"))
        assert coap.decode(await _udp(server.port, non.encode())).mtype == coap.RST
        # Still serving hubs.
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            inner, _ = await hub.request(Code.POST, "t", motion(), query=("s=1",))
            assert inner.code == Code.CHANGED
        finally:
            hub.close()
    assert metrics.rejected.value(reason="malformed") - before == 4
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert sum("malformed" in r.getMessage() for r in caplog.records) == 1


async def test_a_refused_request_is_refused_as_a_replay_after_a_restart(db_url, engine, tmp_path):
    # Its transaction rolled back (unknown sensor), so the window was saved on its own
    # before the 4.00 went out under the request's nonce.
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    hub = RawHub(aiocoap_context(tmp_path / "hub", ident), 0)
    try:
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            body = pack("hub-a", senml.reading("ghost", "motion", True))
            wire, request_id = hub.protect(Code.POST, "t", body, query=("s=1",))
            outer = await hub.send_raw(wire)
            assert outer.opt.oscore == b""  # the request's nonce, reused
            assert hub.open(outer, request_id).code == Code.BAD_REQUEST
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            resp = await hub.send_raw(wire)
            assert resp.code == Code.UNAUTHORIZED and resp.opt.oscore is None
    finally:
        hub.close()


async def test_an_unsaved_window_means_a_fresh_nonce(db_url, engine, tmp_path, monkeypatch):
    # The request's own transaction rolled back and the window's save failed too: the
    # answer must not reuse the request's nonce, which a restarted server might accept.
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)

    def unavailable(self, hub_pk, state):
        raise OSError("database gone")

    before = metrics.rejected.value(reason="state_unsaved")
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            inner, _ = await hub.request(Code.POST, "t", motion(), query=("s=1",))
            assert inner.code == Code.CHANGED  # the hub is online now
            monkeypatch.setattr(StateStore, "save_window", unavailable)
            body = pack("hub-a", senml.reading("ghost", "motion", True))
            wire, request_id = hub.protect(Code.POST, "t", body, query=("s=2",))
            outer = await hub.send_raw(wire)
            assert outer.opt.oscore not in (None, b"")  # carries a Partial IV of ours
            assert hub.open(outer, request_id).code == Code.BAD_REQUEST
            # Stored telemetry commits its window with it: no separate save is needed.
            inner, _ = await hub.request(Code.POST, "t", motion(False), query=("s=3",))
            assert inner.code == Code.CHANGED
        finally:
            hub.close()
    assert metrics.rejected.value(reason="state_unsaved") - before == 1


def test_window_saves_merge_whatever_order_they_commit_in(db_url, engine):
    settings = make_settings(db_url)
    ident = add_hub(engine, settings)
    with session(engine) as db:
        pk = db.exec(select(Hub.id)).one()
    store = StateStore(engine)
    args = (store, pk, "hub-a", ident["sid"], ident["ms"], ident["salt"])
    HubContext(*args)  # makes the row
    store.save_window(pk, (40, 0b101))  # 40 and 38
    store.save_window(pk, (40, 0b010))  # 39, saved by a transaction that began earlier
    store.save_window(pk, (35, 0b1))  # an older window committing last changes nothing
    window = HubContext(*args).recipient_replay_window
    assert [n for n in range(30, 42) if not window.is_valid(n)] == list(range(30, 41))[-3:]
    assert window.is_valid(41) and window.is_valid(37) and window.is_valid(35)
    store.save_window(pk, (80, 0b1))  # a larger top wins: 40 is now beyond the window
    window = HubContext(*args).recipient_replay_window
    assert not window.is_valid(80) and not window.is_valid(40) and window.is_valid(79)
