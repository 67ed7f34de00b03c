"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 05:08:04.569308
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "condominium",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("condominium", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_condominium_name"), ["name"], unique=False)

    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_user_role"), ["role"], unique=False)

    op.create_table(
        "auditlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditlog_at"), ["at"], unique=False)

    op.create_table(
        "authtoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_used", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("authtoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authtoken_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_authtoken_user_id"), ["user_id"], unique=False)

    op.create_table(
        "flat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("condominium_id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["condominium_id"],
            ["condominium.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("condominium_id", "label"),
    )
    with op.batch_alter_table("flat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_flat_condominium_id"), ["condominium_id"], unique=False
        )

    op.create_table(
        "hub",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("oscore_id", sa.LargeBinary(), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("condominium_id", sa.Integer(), nullable=True),
        sa.Column("claim_code_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("hardware", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("firmware_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("activated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("uptime_s", sa.Integer(), nullable=True),
        sa.Column("rssi", sa.Integer(), nullable=True),
        sa.Column("free_heap", sa.Integer(), nullable=True),
        sa.Column("queue_depth", sa.Integer(), nullable=True),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("reset_cause", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("config_etag", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["condominium_id"],
            ["condominium.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("oscore_id"),
    )
    with op.batch_alter_table("hub", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hub_claim_code_hash"), ["claim_code_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hub_condominium_id"), ["condominium_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_hub_id"), ["hub_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_hub_last_seen"), ["last_seen"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_state"), ["state"], unique=False)

    op.create_table(
        "volunteercondominium",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("condominium_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["condominium_id"],
            ["condominium.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("user_id", "condominium_id"),
    )
    op.create_table(
        "oscorestate",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("sender_seq", sa.BigInteger(), nullable=False),
        sa.Column("replay_top", sa.BigInteger(), nullable=False),
        sa.Column("replay_bits", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["hub.id"],
        ),
        sa.PrimaryKeyConstraint("hub_id"),
    )
    op.create_table(
        "resident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flat_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("away_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flat_id"],
            ["flat.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resident_flat_id"), ["flat_id"], unique=False)

    op.create_table(
        "sensor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("room", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("flat_id", sa.Integer(), nullable=True),
        sa.Column("pin", sa.Integer(), nullable=True),
        sa.Column("active_level", sa.Integer(), nullable=False),
        sa.Column("i2c_addr", sa.Integer(), nullable=True),
        sa.Column("ble_addr", sa.LargeBinary(), nullable=True),
        sa.Column("ble_key_enc", sa.LargeBinary(), nullable=True),
        sa.Column("checkin_s", sa.Integer(), nullable=True),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("battery", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["flat_id"],
            ["flat.id"],
        ),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["hub.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hub_id", "key"),
    )
    with op.batch_alter_table("sensor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sensor_flat_id"), ["flat_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sensor_hub_id"), ["hub_id"], unique=False)

    op.create_table(
        "telemetryreceipt",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["hub.id"],
        ),
        sa.PrimaryKeyConstraint("hub_id", "seq"),
    )
    op.create_table(
        "carecirclemember",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["resident.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resident_id", "user_id"),
    )
    with op.batch_alter_table("carecirclemember", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_carecirclemember_resident_id"), ["resident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_carecirclemember_user_id"), ["user_id"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sa.Boolean(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("t", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["hub.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sensor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_hub_id"), ["hub_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_sensor_id"), ["sensor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_t"), ["t"], unique=False)

    op.create_table(
        "reading",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("t", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["hub.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sensor.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reading", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reading_hub_id"), ["hub_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_sensor_id"), ["sensor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_t"), ["t"], unique=False)


def downgrade():
    with op.batch_alter_table("reading", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_t"))
        batch_op.drop_index(batch_op.f("ix_reading_sensor_id"))
        batch_op.drop_index(batch_op.f("ix_reading_kind"))
        batch_op.drop_index(batch_op.f("ix_reading_hub_id"))

    op.drop_table("reading")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_t"))
        batch_op.drop_index(batch_op.f("ix_event_sensor_id"))
        batch_op.drop_index(batch_op.f("ix_event_kind"))
        batch_op.drop_index(batch_op.f("ix_event_hub_id"))

    op.drop_table("event")
    with op.batch_alter_table("carecirclemember", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carecirclemember_user_id"))
        batch_op.drop_index(batch_op.f("ix_carecirclemember_resident_id"))

    op.drop_table("carecirclemember")
    op.drop_table("telemetryreceipt")
    with op.batch_alter_table("sensor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensor_hub_id"))
        batch_op.drop_index(batch_op.f("ix_sensor_flat_id"))

    op.drop_table("sensor")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_flat_id"))

    op.drop_table("resident")
    op.drop_table("oscorestate")
    op.drop_table("volunteercondominium")
    with op.batch_alter_table("hub", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_state"))
        batch_op.drop_index(batch_op.f("ix_hub_last_seen"))
        batch_op.drop_index(batch_op.f("ix_hub_hub_id"))
        batch_op.drop_index(batch_op.f("ix_hub_condominium_id"))
        batch_op.drop_index(batch_op.f("ix_hub_claim_code_hash"))

    op.drop_table("hub")
    with op.batch_alter_table("flat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flat_condominium_id"))

    op.drop_table("flat")
    with op.batch_alter_table("authtoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authtoken_user_id"))
        batch_op.drop_index(batch_op.f("ix_authtoken_token_hash"))

    op.drop_table("authtoken")
    with op.batch_alter_table("auditlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditlog_at"))

    op.drop_table("auditlog")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_role"))
        batch_op.drop_index(batch_op.f("ix_user_email"))

    op.drop_table("user")
    with op.batch_alter_table("condominium", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_condominium_name"))

    op.drop_table("condominium")
