"""The fleet's tables. Schema changes go through Alembic migrations (fleet/migrations/),
never create_all(). API schemas (Create/Update/Public) live beside their routes and
reuse these field definitions where they can."""

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel


def utcnow():
    return datetime.now(UTC)  # aware UTC; SQLModel stores it as UTC on both databases


# Roles (User.role). Each route states which roles may use it.
ADMIN, TECHNICIAN, VOLUNTEER, CAREGIVER = "admin", "technician", "volunteer", "caregiver"
ROLES = (ADMIN, TECHNICIAN, VOLUNTEER, CAREGIVER)

# Hub lifecycle (Hub.state): provisioned → claimed → online ⇄ offline; revoked at any time.
PROVISIONED, CLAIMED, ONLINE, OFFLINE, REVOKED = (
    "provisioned",
    "claimed",
    "online",
    "offline",
    "revoked",
)
ROOMS = ("entrance", "kitchen", "bathroom", "bedroom", "living")


class Condominium(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    address: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Flat(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("condominium_id", "label"),)
    id: int | None = Field(default=None, primary_key=True)
    condominium_id: int = Field(foreign_key="condominium.id", index=True)
    label: str  # as on the door or letterbox: "3B", "scala A int. 7"
    floor: int | None = None


class Resident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    flat_id: int = Field(foreign_key="flat.id", index=True)
    name: str
    language: str = "it"  # for messages about and to this resident's circle
    consent_date: date | None = None  # monitoring starts only with consent on record
    away_until: datetime | None = None  # holiday mode: inactivity rules pause
    notes: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str
    role: str = Field(index=True)  # one of ROLES
    password_hash: str  # argon2id
    language: str = "it"
    phone: str = ""
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class VolunteerCondominium(SQLModel, table=True):
    """Which condominiums a volunteer looks after (their only view of the data)."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    condominium_id: int = Field(foreign_key="condominium.id", primary_key=True)


class CareCircleMember(SQLModel, table=True):
    """A caregiver of a resident; `position` is the escalation order (1 is asked first)."""

    __table_args__ = (UniqueConstraint("resident_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    position: int = 1
    relation: str = ""  # "neighbour", "daughter", "social worker", …


class AuthToken(SQLModel, table=True):
    """A web session (cookie), a tool's bearer token or an invitation to set a password;
    only its SHA-256 is stored. fleet.security keeps the kinds apart."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(unique=True, index=True)
    kind: str = "session"  # "session", "bearer" or "invite"
    name: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used: datetime | None = None


class Hub(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hub_id: str = Field(unique=True, index=True)  # public name, also in SenML base names
    oscore_id: bytes = Field(sa_column=Column(LargeBinary, unique=True, nullable=False))
    # Master Secret and Salt, encrypted with the server's key (fleet/secrets.py).
    secret_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default=PROVISIONED, index=True)
    condominium_id: int | None = Field(default=None, foreign_key="condominium.id", index=True)
    claim_code_hash: str | None = Field(default=None, index=True)  # cleared once claimed
    hardware: str = "esp32"
    firmware_version: str = ""  # the application's (heartbeat key 5)
    image_version: str = ""  # the MicroPython image's (key 11), for "micropython" releases
    created_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    activated_at: datetime | None = None
    revoked_at: datetime | None = None
    # Health, from heartbeats.
    last_seen: datetime | None = Field(default=None, index=True)
    uptime_s: int | None = None
    rssi: int | None = None
    free_heap: int | None = None
    queue_depth: int | None = None
    restarts: int = 0
    reset_cause: str | None = None
    last_error: str | None = None
    config_etag: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    # Heartbeat key 10: emergency events the hub holds undelivered (no update meanwhile).
    emergencies_held: int | None = None


class HubHealthSample(SQLModel, table=True):
    """One heartbeat's health figures, kept for the hub's history (Hub holds the last)."""

    id: int | None = Field(default=None, primary_key=True)
    hub_id: int = Field(foreign_key="hub.id", index=True)
    at: datetime = Field(index=True)
    uptime_s: int | None = None
    rssi: int | None = None
    free_heap: int | None = None
    queue_depth: int | None = None
    firmware_version: str | None = None
    last_error: str | None = None


class OscoreState(SQLModel, table=True):
    """The server side of a hub's OSCORE context that must survive restarts: our sender
    sequence number (saved ahead, RFC 8613 B.1.1) and the replay window of the hub's
    requests, so no restart accepts a replay or reuses a number."""

    hub_id: int = Field(foreign_key="hub.id", primary_key=True)
    # Sequence numbers reach 2**40 (OSCORE) and 2**32 (outbox): 64-bit columns.
    sender_seq: int = Field(default=0, sa_type=BigInteger)
    replay_top: int = Field(default=-1, sa_type=BigInteger)
    replay_bits: int = Field(default=0, sa_type=BigInteger)


class Sensor(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("hub_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    hub_id: int = Field(foreign_key="hub.id", index=True)
    key: str  # the sensor id in SenML names: "<key>/<kind>"
    kind: str  # a SenML kind (protocol/senml.py KINDS); pir sensors report "motion"
    room: str  # one of ROOMS
    flat_id: int | None = Field(default=None, foreign_key="flat.id", index=True)
    pin: int | None = None
    active_level: int = 1
    i2c_addr: int | None = None
    ble_addr: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    ble_key_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    checkin_s: int | None = None  # expected silence at most; None: no expectation
    last_seen: datetime | None = None
    battery: float | None = None


class TelemetryReceipt(SQLModel, table=True):
    """One row per (hub, outbox seq) stored: a retransmitted pack is acknowledged again
    but stored only once."""

    hub_id: int = Field(foreign_key="hub.id", primary_key=True)
    seq: int = Field(primary_key=True, sa_type=BigInteger)
    received_at: datetime = Field(default_factory=utcnow)


class Reading(SQLModel, table=True):
    """A numeric measurement: temperature, humidity, battery, illuminance, RSSI."""

    id: int | None = Field(default=None, primary_key=True)
    hub_id: int = Field(foreign_key="hub.id", index=True)
    sensor_id: int | None = Field(default=None, foreign_key="sensor.id", index=True)
    kind: str = Field(index=True)
    value: float
    unit: str | None = None
    t: datetime = Field(index=True)
    seq: int = Field(sa_type=BigInteger)  # the outbox record it came in


class Event(SQLModel, table=True):
    """A change of state: motion, door, bed, panic, fall, smoke, gas, water, button."""

    id: int | None = Field(default=None, primary_key=True)
    hub_id: int = Field(foreign_key="hub.id", index=True)
    sensor_id: int | None = Field(default=None, foreign_key="sensor.id", index=True)
    kind: str = Field(index=True)
    state: bool | None = None
    text: str | None = None  # for button events: "press", "long_press", …
    t: datetime = Field(index=True)
    seq: int = Field(sa_type=BigInteger)


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    action: str  # "create", "update", "delete", "login", "provision", "claim", "revoke", …
    entity: str  # table name
    entity_id: str = ""
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON))


# Alerts (fleet/alerts). Alert.state: open → notified → acknowledged → resolved.
ALERT_OPEN, ALERT_NOTIFIED, ALERT_ACKNOWLEDGED, ALERT_RESOLVED = (
    "open",
    "notified",
    "acknowledged",
    "resolved",
)
FALSE_ALARM = "false_alarm"  # Alert.resolution when a person says nothing was wrong


class Alert(SQLModel, table=True):
    """One condition of one resident, from raised to resolved. Repeats of the same
    (resident, rule, subject) fold into the unresolved alert: `open_key` holds that triple
    while the alert is unresolved and NULL after, so the database allows only one."""

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    rule: str = Field(index=True)
    subject: str = ""  # a room or sensor id where the rule can hold several times at once
    severity: str = Field(index=True)  # fleet.rules: critical, urgent, warning, technical
    audience: str = "care"  # "care": the care circle; "tech": volunteers and technicians
    state: str = Field(default=ALERT_OPEN, index=True)
    open_key: str | None = Field(default=None, unique=True)
    auto: bool = True  # False: only a person may resolve it (panic, fall, smoke, gas, water)
    since: datetime  # when the condition began (the press, the start of the quiet spell)
    opened_at: datetime = Field(index=True)
    notified_at: datetime | None = None  # first notification delivered to a person
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = None
    resolved_by: int | None = Field(default=None, foreign_key="user.id")  # None: cleared itself
    resolution: str | None = None  # a Cleared reason, "handled", FALSE_ALARM, …
    resolution_note: str = ""
    repeats: int = 0
    last_at: datetime | None = None  # the latest repeat
    facts: dict = Field(default_factory=dict, sa_column=Column(JSON))  # for Condition.text
    # Escalation: the level (index into the alert's ladder) last notified, the round (the
    # ladder starts again after its last level), and when the next level is due.
    level: int = -1
    round: int = 0
    escalate_at: datetime | None = Field(default=None, index=True)


class AlertStep(SQLModel, table=True):
    """One escalation step of an alert: who was called at which level and round. Unique per
    (alert, step) so a step is never taken twice."""

    __table_args__ = (UniqueConstraint("alert_id", "step"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    step: int
    level: int
    round: int = 0
    user_id: int | None = Field(default=None, foreign_key="user.id")
    at: datetime


class Notification(SQLModel, table=True):
    """The outbox: written in the transaction that changes the alert, delivered by the
    worker. state: pending → sending → sent, or failed / cancelled. `idempotency_key` is
    also the e-mail Message-ID and the webhook's Idempotency-Key, so a receiver can drop
    the copy resent after a crash between sending and recording it."""

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    channel: str  # "email", "webhook", "apprise"
    recipient: str  # address or URL (apprise URLs may hold tokens: never shown in the API)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON))
    idempotency_key: str = Field(unique=True)
    state: str = Field(default="pending", index=True)
    attempts: int = 0
    next_try: datetime = Field(index=True)
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class RuleState(SQLModel, table=True):
    """A resident's rules: settings overrides (fleet.rules.Settings fields, and "escalation":
    {"critical": [s, …], "other": [s, …]}, timeouts per level) and the engine's snapshot
    (learned routine and live state); `version` grows with every save so a cached engine
    knows when it is stale."""

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON))
    snapshot: dict | None = Field(default=None, sa_column=Column(JSON))
    version: int = 0
    due_at: datetime | None = Field(default=None, index=True)  # Engine.next_due()
    updated_at: datetime = Field(default_factory=utcnow)


SUMMARY_AT = 510  # the morning summary's time unless a user chose another: 08:30


class NotificationSettings(SQLModel, table=True):
    """How a user is told. Without a row: e-mail to User.email in User.language, and the
    morning summary at SUMMARY_AT."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    email: str | None = None  # None: User.email; "" turns e-mail off
    webhook_url: str = ""
    webhook_secret_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    apprise_urls: list = Field(default_factory=list, sa_column=Column(JSON))
    language: str | None = None  # None: User.language
    # Local time of the morning wellbeing summary, in minutes after midnight; None: none.
    # A new row starts at SUMMARY_AT, but the column has no default: the ORM leaves None
    # out of an INSERT, and a column default would then turn "none" into 08:30.
    summary_at: int | None = Field(default=SUMMARY_AT, sa_column=Column(Integer, nullable=True))


# Over-the-air updates (fleet/ota). Campaign.state: draft → running ⇄ paused → finished,
# or cancelled from any unfinished state.
CAMPAIGN_STATES = ("draft", "running", "paused", "finished", "cancelled")
# Deployment.state, after LwM2M's Firmware Update object (plus the safety deferral and the
# fleet's own last check, "confirming": the new version must send telemetry).
DEPLOYMENT_STATES = (
    "idle",
    "waiting",
    "downloading",
    "downloaded",
    "updating",
    "confirming",
    "updated",
    "failed",
)


class Release(SQLModel, table=True):
    """A signed release as tools/release.py made it: the fleet stores and serves it, and
    has checked its signature against the trusted keys, but cannot sign one."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True, sa_type=BigInteger)  # anti-rollback number
    version: str
    component: str = "hub-app"
    hardware: str = Field(index=True)  # hardware class: "micropython-esp32", "cpython-linux"
    size: int
    sha256: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    manifest: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # COSE_Sign1
    bundle: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kid: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="user.id")


class Campaign(SQLModel, table=True):
    """A staged rollout of one release: `target` the selection ({"condominium_ids",
    "hub_ids", "from_versions", "hardware"}), `waves` cumulative percentages of the
    targeted hubs, `current_wave` the 1-based wave under way (0 before start)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    release_id: int = Field(foreign_key="release.id", index=True)
    state: str = Field(default="draft", index=True)  # one of CAMPAIGN_STATES
    target: dict = Field(default_factory=dict, sa_column=Column(JSON))
    waves: list = Field(default_factory=list, sa_column=Column(JSON))
    success_share: float = 0.9
    failure_share: float = 0.2
    window_start: str | None = None  # "HH:MM" local time, or None: any time
    window_end: str | None = None
    current_wave: int = 0
    paused_reason: str = ""
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Deployment(SQLModel, table=True):
    """One hub in one campaign. `deadline`: when the present state times out to failed;
    `deferred_since`: when a safety rule first held the offer back; `reported_at`: when
    the hub reported "updated" (telemetry after it makes the deployment "updated");
    `blocks` counts the m/i blocks served for it (a resumed download adds only the rest;
    written in batches, it lags by up to 16 blocks or one OTA tick)."""

    __table_args__ = (UniqueConstraint("campaign_id", "hub_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    hub_id: int = Field(foreign_key="hub.id", index=True)
    wave: int
    state: str = Field(default="idle", index=True)  # one of DEPLOYMENT_STATES
    result: str = ""  # "" or a failure reason: "integrity", "rolled back", "timed out", …
    detail: str = ""
    offered_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    deadline: datetime | None = Field(default=None, index=True)
    deferred_since: datetime | None = None
    reported_at: datetime | None = None
    blocks: int = 0


class WalkTest(SQLModel, table=True):
    """A volunteer's walk-test of one hub (fleet.services.walktest): while it runs, the
    hub's events are stored but the rules do not see them, except an alarm a sensor
    repeats. It runs from started_at until the first of ends_at, ended_at (ended from the
    page) and watched_at + walktest.UNWATCHED (nobody has the page open any more).
    `running` holds the hub's id while it runs and NULL after, so a hub has one at most;
    `taken` is {sensor id: event key}: the one alarm of each sensor the test has taken."""

    id: int | None = Field(default=None, primary_key=True)
    hub_id: int = Field(foreign_key="hub.id", index=True)
    running: int | None = Field(default=None, unique=True)
    started_by: int = Field(foreign_key="user.id")
    started_at: datetime
    ends_at: datetime
    watched_at: datetime
    ended_at: datetime | None = None
    ended_by: int | None = Field(default=None, foreign_key="user.id")
    end_reason: str = ""  # "ended" (from the page), "expired", "unwatched"
    taken: dict = Field(default_factory=dict, sa_column=Column(JSON))
