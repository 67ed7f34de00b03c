"""Database fixtures: every fleet test that takes `engine` runs on SQLite and on
PostgreSQL (FLEET_TEST_POSTGRES_URL, which `./dev test` sets after starting the local
cluster). In CI a missing PostgreSQL is an error, never a silent SQLite-only run."""

import os

import pytest
from sqlalchemy import text

from fleet.db import make_engine, migrate

PG_URL = os.environ.get("FLEET_TEST_POSTGRES_URL")
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must run the database tests on PostgreSQL: use ./dev test")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _fresh_postgres():
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A database migrated to the newest schema, empty."""
    url = f"sqlite:///{tmp_path}/fleet.db" if request.param == "sqlite" else _fresh_postgres()
    migrate(url)
    return url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
