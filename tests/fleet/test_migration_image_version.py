"""Migration 0006 (hub.image_version, heartbeat key 11) on SQLite and PostgreSQL: hubs
enrolled before it keep their rows, with the image's version unknown ("") until their
next heartbeat, and it can be taken back."""

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from fleet.db import MIGRATIONS, make_engine


def _alembic(url):
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _columns(engine):
    return {c["name"] for c in inspect(engine).get_columns("hub")}


def test_0006_adds_the_image_version_to_existing_hubs_and_goes_back(db_url):
    cfg = _alembic(db_url)
    command.downgrade(cfg, "0005")
    engine = make_engine(db_url)
    try:
        assert "image_version" not in _columns(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO hub (hub_id, oscore_id, secret_enc, state, hardware, "
                    "firmware_version, created_at, restarts) VALUES ('old', :o, :s, "
                    "'online', 'esp32', '0.1.0', CURRENT_TIMESTAMP, 0)"
                ),
                {"o": b"\x01", "s": b"x"},
            )
        command.upgrade(cfg, "head")
        engine.dispose()  # PostgreSQL caches the table's shape per connection
        with engine.connect() as conn:
            row = conn.execute(text("SELECT firmware_version, image_version FROM hub")).one()
        assert tuple(row) == ("0.1.0", "")
        command.downgrade(cfg, "0005")
        engine.dispose()
        assert "image_version" not in _columns(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT hub_id FROM hub")).scalar_one() == "old"
    finally:
        engine.dispose()
