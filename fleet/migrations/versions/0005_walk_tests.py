"""walk-tests: a volunteer's test mode for one hub

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade():
    op.create_table(
        "walktest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", _TIME(), nullable=False),
        sa.Column("ends_at", _TIME(), nullable=False),
        sa.Column("watched_at", _TIME(), nullable=False),
        sa.Column("ended_at", _TIME(), nullable=True),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("taken", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"]),
        sa.ForeignKeyConstraint(["started_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["ended_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("running"),
    )
    op.create_index("ix_walktest_hub_id", "walktest", ["hub_id"])


def downgrade():
    op.drop_index("ix_walktest_hub_id", table_name="walktest")
    op.drop_table("walktest")
