"""hub.image_version: the MicroPython image's version (heartbeat key 11)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Hubs already enrolled report it with their next heartbeat; until then, unknown ("").
    op.add_column(
        "hub",
        sa.Column(
            "image_version",
            sqlmodel.sql.sqltypes.AutoString(),
            nullable=False,
            server_default="",
        ),
    )


def downgrade():
    with op.batch_alter_table("hub") as batch:
        batch.drop_column("image_version")
