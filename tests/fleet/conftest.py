"""Database fixtures: every fleet test that takes `engine` runs on SQLite and on
PostgreSQL (FLEET_TEST_POSTGRES_URL, which `./dev test` sets after starting the local
cluster). In CI a missing PostgreSQL is an error, never a silent SQLite-only run."""

import os

import pytest
from sqlalchemy import make_url, text

from fleet.db import make_engine, migrate

PG_URL = os.environ.get("FLEET_TEST_POSTGRES_URL")
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must run the database tests on PostgreSQL: use ./dev test")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def pg_database():
    """A database of this test run's own, so parallel runs cannot drop each other's
    tables; made from FLEET_TEST_POSTGRES_URL's role, dropped at the end."""
    base = make_url(PG_URL)
    name = f"{base.database}_{os.getpid()}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_postgres(url):
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A database migrated to the newest schema, empty."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/fleet.db"
    else:
        url = _fresh_postgres(request.getfixturevalue("pg_database"))
    migrate(url)
    return url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
