"""Alembic environment: the URL comes from the caller (fleet.db.migrate) or settings."""

from alembic import context
from sqlmodel import SQLModel

import fleet.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from fleet.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    from fleet.settings import get_settings

    url = get_settings().database_url


def run_offline():
    context.configure(url=url, target_metadata=SQLModel.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    engine = make_engine(url)
    with engine.connect() as conn:
        # render_as_batch: SQLite alters tables by copying them; Alembic does it for us.
        context.configure(connection=conn, target_metadata=SQLModel.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
