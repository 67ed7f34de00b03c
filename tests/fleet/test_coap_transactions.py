"""Database work per message on the CoAP endpoint: a telemetry pack, the rules it feeds
and the request's replay window commit once, together; OTA blocks served are counted in
batches, not written one by one, and the count still ends equal to the blocks served
(the resume proof). SQLite and PostgreSQL."""

import os
from datetime import date

import pytest
from aiocoap.numbers.codes import Code
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from fleet import alerts
from fleet.alerts import engines
from fleet.api.deps import as_utc
from fleet.coap import resources
from fleet.db import session
from fleet.models import Deployment, Flat, Resident, RuleState, TelemetryReceipt
from fleet.ota import campaigns, deployments, releases
from protocol import cbor, senml
from tests.fleet.coap_support import RawHub, add_hub, aiocoap_context, make_settings, pack, running
from tests.fleet.ota_support import build, keys_file, new_key
from tests.fleet.test_ota_coap import _get

QUIET = {"heartbeat_interval_s": 3600, "ota_tick_s": 3600}  # no sweep or tick mid-test


class DbWork:
    """Transactions begun, commits and statements on `engine`, by every session."""

    def __init__(self, engine):
        self.begin = self.commit = 0
        self.statements = []
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "before_cursor_execute", self._statement)

    def _begin(self, _conn):
        self.begin += 1

    def _commit(self, _conn):
        self.commit += 1

    def _statement(self, _conn, _cursor, statement, *_):
        self.statements.append(statement)

    def reset(self):
        self.begin = self.commit = 0
        self.statements.clear()


def _with_resident(engine):
    with session(engine) as db:
        flat = db.exec(select(Flat)).one()
        db.add(Resident(flat_id=flat.id, name="Maria Rossi", consent_date=date(2026, 1, 1)))
        db.commit()


def _motion(hub_id="hub-a"):
    return pack(hub_id, senml.reading("pir1", "motion", True))


async def test_a_pack_its_rules_and_its_window_commit_once(db_url, engine, tmp_path):
    settings = make_settings(db_url, **QUIET)
    ident = add_hub(engine, settings)
    _with_resident(engine)
    work = DbWork(engine)
    hub = RawHub(aiocoap_context(tmp_path / "hub", ident), 0)
    try:
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            first, _ = await hub.request(Code.POST, "t", _motion(), query=("s=1",))
            assert first.code == Code.CHANGED  # activates the hub: a commit of its own
            work.reset()
            wire, request_id = hub.protect(Code.POST, "t", _motion(), query=("s=2",))
            outer = await hub.send_raw(wire)
            assert hub.open(outer, request_id).code == Code.CHANGED
            assert outer.opt.oscore == b""  # the request's nonce: its number was saved
            assert (work.begin, work.commit) == (1, 1)
            with session(engine) as db:
                [state] = db.exec(select(RuleState)).all()
                received = db.exec(
                    select(TelemetryReceipt.received_at).where(TelemetryReceipt.seq == 2)
                ).one()
            assert engines.fed_at(state) == as_utc(received)  # the rules saw it, same commit
            work.reset()  # the same pack again (its acknowledgement was lost): the window
            repeat, _ = await hub.request(Code.POST, "t", _motion(), query=("s=2",))
            assert repeat.code == Code.CHANGED and (work.begin, work.commit) == (1, 1)
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            again = await hub.send_raw(wire)  # the committed window refuses it
            assert again.code == Code.UNAUTHORIZED and again.opt.oscore is None
    finally:
        hub.close()


async def test_rules_that_fail_cost_neither_the_pack_nor_its_window(
    db_url, engine, tmp_path, monkeypatch
):
    settings = make_settings(db_url, **QUIET)
    ident = add_hub(engine, settings)
    _with_resident(engine)

    def broken(*args):
        raise RuntimeError("rules broke")

    monkeypatch.setattr(alerts, "replay_since", None)
    hub = RawHub(aiocoap_context(tmp_path / "hub", ident), 0)
    try:
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            monkeypatch.setattr(engines, "observe_stored", broken)
            wire, request_id = hub.protect(Code.POST, "t", _motion(), query=("s=1",))
            assert hub.open(await hub.send_raw(wire), request_id).code == Code.CHANGED
        with session(engine) as db:
            assert [r.seq for r in db.exec(select(TelemetryReceipt)).all()] == [1]
            assert db.exec(select(RuleState)).all() == []
        assert alerts.replay_since is not None  # the rules get it with the next replay
        async with running(settings, engine) as server:
            hub.sock.connect(("127.0.0.1", server.port))
            again = await hub.send_raw(wire)
            assert again.code == Code.UNAUTHORIZED and again.opt.oscore is None
    finally:
        hub.close()


def _deployment(engine):
    with session(engine) as db:
        return db.exec(select(Deployment)).one()


def _count_writes(work):
    return sum(
        s.lstrip().upper().startswith("UPDATE DEPLOYMENT") and "blocks" in s
        for s in work.statements
    )


async def test_blocks_served_are_counted_in_batches_and_all_of_them(db_url, engine, tmp_path):
    key = new_key()
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key), **QUIET)
    ident = add_hub(engine, settings)
    manifest, bundle = build(key, 3, hw="micropython-esp32", body=os.urandom(40_000))
    blocks = -(-len(bundle) // 1024)
    assert blocks > 2 * resources.FLUSH_BLOCKS and len(manifest) <= 1024
    with session(engine) as db:
        rel = releases.upload(db, settings, manifest, bundle, None)
        campaigns.start(db, None, campaigns.create(db, None, rel.id, waves=(100,)).id)
    work = DbWork(engine)
    async with running(settings, engine) as server:
        hub = RawHub(aiocoap_context(tmp_path / "hub", ident), server.port)
        try:
            beat = cbor.dumps({1: 10, 5: "0.1.0"})
            reply = cbor.loads((await hub.request(Code.POST, "hb", beat))[0].payload)
            assert reply[3] == {1: 3}
            assert (await _get(hub, "m", 0)).payload == manifest  # one block: written
            assert _deployment(engine).blocks == 1
            work.reset()
            for num in range(5):  # the first bundle block starts the download: written
                assert (await _get(hub, "i", num)).code == Code.CONTENT
            d = _deployment(engine)
            assert (d.blocks, d.state) == (2, "downloading")  # 3 blocks held in memory
            server.ota_tick()  # a stalled download's count shows by the next tick
            assert _deployment(engine).blocks == 6
            for num in range(5, blocks):
                assert (await _get(hub, "i", num)).code == Code.CONTENT
            assert _deployment(engine).blocks == 1 + blocks  # the last block writes
            assert _count_writes(work) <= blocks // resources.FLUSH_BLOCKS + 3
            assert work.commit >= blocks  # each request still commits its replay window
            for num in (7, 8):  # a download resumed after a reset, then the server stops
                await _get(hub, "i", num)
        finally:
            hub.close()
    assert _deployment(engine).blocks == 3 + blocks


def test_counts_a_failed_write_could_not_save_are_written_later(
    db_url, engine, tmp_path, monkeypatch
):
    key = new_key()
    settings = make_settings(db_url, release_keys=keys_file(tmp_path, key))
    add_hub(engine, settings)
    manifest, bundle = build(key, 3, hw="micropython-esp32")
    with session(engine) as db:
        rel = releases.upload(db, settings, manifest, bundle, None)
        campaigns.start(db, None, campaigns.create(db, None, rel.id, waves=(100,)).id)
    deployment_id = _deployment(engine).id
    counts = resources.BlockCounts()
    counts.add(deployment_id, 5)
    real = deployments.count_block

    def down(*args):
        raise OperationalError("UPDATE", {}, Exception("connection lost"))

    monkeypatch.setattr(deployments, "count_block", down)
    with pytest.raises(OperationalError):
        counts.flush(engine)
    counts.add(deployment_id, 2)
    monkeypatch.setattr(deployments, "count_block", real)
    counts.flush(engine)
    assert _deployment(engine).blocks == 7
    counts.flush(engine)  # nothing held: nothing written twice
    assert _deployment(engine).blocks == 7
