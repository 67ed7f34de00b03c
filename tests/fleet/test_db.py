"""The schema comes from the migrations, on both databases, and enforces what the data
model promises (one receipt per hub and outbox seq; 64-bit sequence numbers)."""

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from fleet.db import session
from fleet.models import Hub, OscoreState, TelemetryReceipt


def test_migrations_create_every_table_of_the_model(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables


def test_sqlite_runs_in_wal_mode(engine):
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _hub(db):
    hub = Hub(hub_id="h1", oscore_id=b"\x01", secret_enc=b"x")
    db.add(hub)
    db.commit()
    return hub


def test_a_telemetry_record_is_stored_once_per_hub_and_seq(engine):
    with session(engine) as db:
        hub = _hub(db)
        db.add(TelemetryReceipt(hub_id=hub.id, seq=4_000_000_000))  # past 2**31
        db.commit()
        db.add(TelemetryReceipt(hub_id=hub.id, seq=4_000_000_000))
        with pytest.raises(IntegrityError):
            db.commit()


def test_oscore_sequence_numbers_fit_40_bits(engine):
    with session(engine) as db:
        hub = _hub(db)
        db.add(OscoreState(hub_id=hub.id, sender_seq=2**40 - 1, replay_bits=2**32 - 1))
        db.commit()
    with session(engine) as db:
        state = db.get(OscoreState, hub.id)
        assert (state.sender_seq, state.replay_bits) == (2**40 - 1, 2**32 - 1)


def test_models_match_the_migrations(engine):
    # A model change without its migration would only show up on a real database.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
