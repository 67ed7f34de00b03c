"""Database engine and sessions: SQLite (a file, WAL mode) by default, PostgreSQL when
FLEET_DATABASE_URL says postgresql+psycopg://…. The schema is made by Alembic only."""

from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")


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
    return create_engine(url, pool_pre_ping=True)


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
