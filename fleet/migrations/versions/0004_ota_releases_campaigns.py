"""OTA releases, campaigns and deployments; emergencies a hub holds

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_TIME = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade():
    op.create_table(
        "release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("version", _TEXT(), nullable=False),
        sa.Column("component", _TEXT(), nullable=False),
        sa.Column("hardware", _TEXT(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=False),
        sa.Column("bundle", sa.LargeBinary(), nullable=False),
        sa.Column("kid", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_release_seq", "release", ["seq"], unique=True)
    op.create_index("ix_release_hardware", "release", ["hardware"])
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _TEXT(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("state", _TEXT(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=True),
        sa.Column("waves", sa.JSON(), nullable=True),
        sa.Column("success_share", sa.Float(), nullable=False),
        sa.Column("failure_share", sa.Float(), nullable=False),
        sa.Column("window_start", _TEXT(), nullable=True),
        sa.Column("window_end", _TEXT(), nullable=True),
        sa.Column("current_wave", sa.Integer(), nullable=False),
        sa.Column("paused_reason", _TEXT(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME(), nullable=False),
        sa.Column("started_at", _TIME(), nullable=True),
        sa.Column("finished_at", _TIME(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["release_id"], ["release.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaign_release_id", "campaign", ["release_id"])
    op.create_index("ix_campaign_state", "campaign", ["state"])
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("state", _TEXT(), nullable=False),
        sa.Column("result", _TEXT(), nullable=False),
        sa.Column("detail", _TEXT(), nullable=False),
        sa.Column("offered_at", _TIME(), nullable=True),
        sa.Column("updated_at", _TIME(), nullable=False),
        sa.Column("deadline", _TIME(), nullable=True),
        sa.Column("deferred_since", _TIME(), nullable=True),
        sa.Column("reported_at", _TIME(), nullable=True),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "hub_id"),
    )
    op.create_index("ix_deployment_campaign_id", "deployment", ["campaign_id"])
    op.create_index("ix_deployment_hub_id", "deployment", ["hub_id"])
    op.create_index("ix_deployment_state", "deployment", ["state"])
    op.create_index("ix_deployment_deadline", "deployment", ["deadline"])
    with op.batch_alter_table("hub") as batch:
        batch.add_column(sa.Column("emergencies_held", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("hub") as batch:
        batch.drop_column("emergencies_held")
    for name in ("deadline", "state", "hub_id", "campaign_id"):
        op.drop_index(f"ix_deployment_{name}", table_name="deployment")
    op.drop_table("deployment")
    op.drop_index("ix_campaign_state", table_name="campaign")
    op.drop_index("ix_campaign_release_id", table_name="campaign")
    op.drop_table("campaign")
    op.drop_index("ix_release_hardware", table_name="release")
    op.drop_index("ix_release_seq", table_name="release")
    op.drop_table("release")
