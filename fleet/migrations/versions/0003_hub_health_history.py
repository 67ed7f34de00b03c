"""hub health history and the morning summary setting

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hubhealthsample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("uptime_s", sa.Integer(), nullable=True),
        sa.Column("rssi", sa.Integer(), nullable=True),
        sa.Column("free_heap", sa.Integer(), nullable=True),
        sa.Column("queue_depth", sa.Integer(), nullable=True),
        sa.Column("firmware_version", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hubhealthsample_hub_id", "hubhealthsample", ["hub_id"])
    op.create_index("ix_hubhealthsample_at", "hubhealthsample", ["at"])
    with op.batch_alter_table("notificationsettings") as batch:
        batch.add_column(sa.Column("summary_at", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("notificationsettings") as batch:
        batch.drop_column("summary_at")
    op.drop_index("ix_hubhealthsample_at", table_name="hubhealthsample")
    op.drop_index("ix_hubhealthsample_hub_id", table_name="hubhealthsample")
    op.drop_table("hubhealthsample")
