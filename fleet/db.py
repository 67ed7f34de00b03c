"""Database engine and sessions: SQLite (a file, WAL mode) by default, PostgreSQL when
FLEET_DATABASE_URL says postgresql+psycopg://…. The schema is made by Alembic only."""

import time
from pathlib import Path

from sqlalchemy import event, exc
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")
# A pooled PostgreSQL connection idle this long is pinged before it is handed out. Not
# every checkout, as pool_pre_ping would: the CoAP endpoint checks out a connection or
# two per message, and a ping is a round trip as dear as a statement. A connection used
# within this time that died with a server restart fails one statement; SQLAlchemy then
# sees the disconnect and replaces the pool's older connections.
IDLE_PING_S = 5.0
POOL_SIZE = 10


def make_engine(url):
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
            cur.close()

        return engine
    # Kept open: the CoAP endpoint's threads (coap/server.py DB_THREADS), uvicorn's
    # worker threads and the alert runner each hold one at a time.
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=2 * POOL_SIZE)

    @event.listens_for(engine, "checkin")
    def _idle_from(_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(conn, record, _proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(conn)
        except Exception as e:
            raise exc.DisconnectionError("connection lost while idle") from e  # pool retries

    return engine


def migrate(url):
    """Bring the database at `url` to the newest schema."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")


def session(engine):
    return Session(engine, expire_on_commit=False)
