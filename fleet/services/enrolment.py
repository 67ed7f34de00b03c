"""Enrolment: a hub's life from the technician's bench to revocation. Every door (HTTP
routes, CoAP resources, the technician's CLI) calls these functions.

    p = provision(db, settings, user)          # Provisioned: hub, claim code, identity map
    hub = claim(db, settings, user, code, client="203.0.113.7", condominium_id=3)
    activate(db, hub)                          # the CoAP side, on the first good message
    revoke(db, hub, user)                      # on_revoke hooks run: cached contexts die
    p = reprovision(db, settings, hub, user)   # new secret and sender id, same hub record

A hub's Master Secret and Salt leave this module only once, inside the Provisioned value
that becomes its identity file; the database holds them sealed (fleet/secrets.py). The
claim code is stored as an HMAC under a key derived from the server's secret key, so a
copy of the database alone does not reveal or let anyone test claim codes.
"""

import hashlib
import hmac
import os
import secrets as pyrandom
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, update
from sqlmodel import select

from fleet import secrets
from fleet.models import (
    ADMIN,
    CLAIMED,
    OFFLINE,
    ONLINE,
    PROVISIONED,
    REVOKED,
    AuditLog,
    Condominium,
    Hub,
    OscoreState,
    Sensor,
    VolunteerCondominium,
    utcnow,
)

# Crockford's base32: no I, L, O or U, so a code read off a label cannot be mistyped into
# another valid one; 12 symbols are 60 bits, far beyond guessing at a few tries per hour.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
SENDER_ID_LENGTH = 4  # random, so ids reveal nothing about the fleet's size
IDENTITY_VERSION = 1

# Callables fn(hub_id, oscore_id) run after a hub's context is revoked or replaced; the
# CoAP server registers one that drops the context from its cache at once.
on_revoke = []


class EnrolmentError(Exception):
    """A refused enrolment step; `status` is the HTTP status a client should get."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class Provisioned:
    """What a technician gets once: the hub row, its claim code and its identity map
    (the fields of identity.cbor, secrets included). Its repr shows neither secret."""

    def __init__(self, hub, claim_code, identity):
        self.hub = hub
        self.claim_code = claim_code
        self.identity = identity

    def __repr__(self):
        return "<Provisioned hub " + self.hub.hub_id + ">"


def _audit(db, user, action, entity, entity_id, **detail):
    # services/audit.py (the API engineer's) takes over when it lands.
    try:
        from fleet.services.audit import audit
    except ImportError:
        uid = user.id if user is not None else None
        db.add(
            AuditLog(user_id=uid, action=action, entity=entity, entity_id=entity_id, detail=detail)
        )
        return
    audit(db, user, action, entity, entity_id, **detail)


def _code_key(settings):
    return hashlib.sha256(b"portineria claim codes\0" + settings.secret_key.encode()).digest()


def normalise_code(text):
    """The canonical claim code in `text`: a typed code (any case, dashes, O for 0, I or L
    for 1) or the URL of a label's QR code (…?code=…). None if it cannot be one."""
    text = (text or "").strip()
    if "://" in text:
        text = parse_qs(urlsplit(text).query).get("code", [""])[0]
    code = text.upper().translate(_CONFUSABLE)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def format_code(code):
    """For the label: groups of four, XXXX-XXXX-XXXX."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def claim_url(settings, code):
    """What the label's QR code holds: the claim page with the code filled in."""
    return settings.public_url.rstrip("/") + "/claim?code=" + code


def hash_code(settings, code):
    return hmac.new(_code_key(settings), code.encode(), hashlib.sha256).hexdigest()


def _new_code():
    return "".join(pyrandom.choice(ALPHABET) for _ in range(CODE_LENGTH))


def _unused(db, column, value):
    return db.exec(select(Hub.id).where(column == value)).first() is None


def _new_keys(db):
    """A fresh OSCORE Sender ID (unique among hubs, never empty: the fleet's is) and a
    Master Secret and Salt."""
    while True:
        sid = os.urandom(SENDER_ID_LENGTH)
        if _unused(db, Hub.oscore_id, sid):
            return sid, os.urandom(16), os.urandom(8)


def _identity(settings, hub, sid, ms, salt, host, port, wifi):
    fields = {
        "v": IDENTITY_VERSION,
        "hub": hub.hub_id,
        "sid": sid,
        "rid": b"",
        "ms": ms,
        "salt": salt,
        "host": host or settings.coap_host,
        "port": port or settings.coap_port,
        "ssid": wifi.get("ssid", ""),
        "wkey": wifi.get("wkey", ""),
    }
    fields.update({k: v for k, v in wifi.items() if k not in ("ssid", "wkey")})
    return fields


def provision(db, settings, user, host=None, port=None, hardware="esp32", **wifi):
    """Make a new hub: random hub id, sender id, secret and salt (stored sealed), and a
    single-use claim code (stored as its HMAC). `host`/`port` are the fleet address the
    hub will use (the CoAP settings by default); `wifi` holds "ssid", "wkey" and any
    optional identity fields ("ack", "buzzer", "led", "scl", "sda")."""
    while True:
        hub_id = "hub-" + pyrandom.token_hex(5)
        if _unused(db, Hub.hub_id, hub_id):
            break
    sid, ms, salt = _new_keys(db)
    code = _new_code()
    hub = Hub(
        hub_id=hub_id,
        oscore_id=sid,
        secret_enc=secrets.seal_hub_secret(settings, ms, salt),
        state=PROVISIONED,
        claim_code_hash=hash_code(settings, code),
        hardware=hardware,
    )
    db.add(hub)
    db.flush()
    _audit(db, user, "provision", "hub", hub_id, hardware=hardware)
    db.commit()
    return Provisioned(hub, code, _identity(settings, hub, sid, ms, salt, host, port, wifi))


def _failed_claims_since(db, since, user, client):
    base = select(func.count(AuditLog.id)).where(
        AuditLog.action == "claim-refused", AuditLog.at >= since
    )
    by_user = db.exec(base.where(AuditLog.user_id == user.id)).one() if user else 0
    by_client = db.exec(base.where(AuditLog.detail["client"].as_string() == client)).one()
    return max(by_user, by_client)


def may_claim_into(db, user, condominium_id):
    if user.role == ADMIN:
        return db.get(Condominium, condominium_id) is not None
    link = db.get(VolunteerCondominium, (user.id, condominium_id))
    return link is not None


def claim(db, settings, user, code, client, condominium_id):
    """Attach the hub whose label shows `code` to a condominium `user` looks after.
    Failed attempts are audited and counted per user and per client address: past
    settings.claim_attempts_per_hour of either, every attempt is refused (429)."""
    since = utcnow() - timedelta(hours=1)
    if _failed_claims_since(db, since, user, client) >= settings.claim_attempts_per_hour:
        raise EnrolmentError("too many wrong claim codes; try again in an hour", 429)
    if not may_claim_into(db, user, condominium_id):
        raise EnrolmentError("you do not look after that condominium", 403)
    norm = normalise_code(code)
    hub = None
    if norm is not None:
        hub = db.exec(select(Hub).where(Hub.claim_code_hash == hash_code(settings, norm))).first()
    if hub is None or hub.state != PROVISIONED:
        _audit(db, user, "claim-refused", "hub", "", client=client)
        db.commit()
        raise EnrolmentError("no hub waits for that claim code", 404)
    # One UPDATE guarded by the code: of two claims racing for one code, one row changes.
    now = utcnow()
    done = db.exec(
        update(Hub)
        .where(Hub.id == hub.id, Hub.claim_code_hash == hub.claim_code_hash)
        .where(Hub.state == PROVISIONED)
        .values(claim_code_hash=None, state=CLAIMED, condominium_id=condominium_id, claimed_at=now)
    )
    if done.rowcount != 1:
        db.rollback()
        raise EnrolmentError("no hub waits for that claim code", 404)
    _audit(db, user, "claim", "hub", hub.hub_id, condominium_id=condominium_id, client=client)
    db.commit()
    db.refresh(hub)
    return hub


def set_up(db, settings, technician, volunteer, condominium_id, flat_id, sensors, client="setup",
           **identity):  # fmt: skip
    """A new hub's whole setup as people do it: the technician provisions it, the
    volunteer claims it into their condominium, and its sensors — maps as in the hub's
    configuration: "id", "kind", "room", and "pin"/"active" or "i2c" — are registered
    in a flat. `identity` goes to provision(). Returns the Provisioned hub."""
    made = provision(db, settings, technician, **identity)
    claim(db, settings, volunteer, made.claim_code, client, condominium_id)
    for s in sensors:
        db.add(
            Sensor(
                hub_id=made.hub.id, key=s["id"], kind=s["kind"], room=s["room"], flat_id=flat_id,
                pin=s.get("pin"), active_level=s.get("active", 1), i2c_addr=s.get("i2c"),
            )
        )  # fmt: skip
    db.commit()
    return made


def activate(db, hub):
    """The hub's first authenticated message: mark it online. True if its state changed.
    A revoked hub is never brought back (the caller must refuse it before this)."""
    if hub.state in (REVOKED, ONLINE):
        return False
    first = hub.activated_at is None
    hub.state = ONLINE
    if first:
        hub.activated_at = utcnow()
        _audit(db, None, "activate", "hub", hub.hub_id)
    db.add(hub)
    db.commit()
    return True


def _forget_context(db, hub):
    # The old context's replay window and sequence numbers mean nothing to a new one.
    state = db.get(OscoreState, hub.id)
    if state is not None:
        db.delete(state)


def _notify(hub_id, oscore_id):
    for fn in list(on_revoke):
        fn(hub_id, oscore_id)


def revoke(db, hub, user, reason=""):
    """Refuse the hub from now on: its sealed secret is wiped too, so no restarted server
    can build its context again. Idempotent."""
    if hub.state == REVOKED:
        return hub
    old_sid = hub.oscore_id
    hub.state = REVOKED
    hub.revoked_at = utcnow()
    hub.claim_code_hash = None
    hub.secret_enc = b""
    _forget_context(db, hub)
    db.add(hub)
    _audit(db, user, "revoke", "hub", hub.hub_id, reason=reason)
    db.commit()
    _notify(hub.hub_id, old_sid)
    return hub


def reprovision(db, settings, hub, user, host=None, port=None, **wifi):
    """New sender id, secret and salt for the same hub record (its sensors, condominium
    and history stay); the old context is dead. A hub not yet claimed gets a new claim
    code too; a claimed one keeps its condominium (Provisioned.claim_code is None)."""
    old_sid = hub.oscore_id
    sid, ms, salt = _new_keys(db)
    code = None if hub.condominium_id is not None else _new_code()
    hub.oscore_id = sid
    hub.secret_enc = secrets.seal_hub_secret(settings, ms, salt)
    hub.state = CLAIMED if code is None else PROVISIONED
    hub.claim_code_hash = None if code is None else hash_code(settings, code)
    hub.revoked_at = None
    hub.activated_at = None
    _forget_context(db, hub)
    db.add(hub)
    _audit(db, user, "reprovision", "hub", hub.hub_id)
    db.commit()
    _notify(hub.hub_id, old_sid)
    return Provisioned(hub, code, _identity(settings, hub, sid, ms, salt, host, port, wifi))


def get_hub(db, hub_id):
    hub = db.exec(select(Hub).where(Hub.hub_id == hub_id)).first()
    if hub is None:
        raise EnrolmentError("no hub " + hub_id, 404)
    return hub


def is_accepted(hub):
    """Whether the CoAP side may accept a message from `hub` at all."""
    return hub is not None and hub.state in (PROVISIONED, CLAIMED, ONLINE, OFFLINE)


def key_opens_secrets(db, settings):
    """Whether settings.secret_key opens the hubs' sealed secrets (True with no hubs yet):
    a tool sealing under another key would make hubs that can never connect."""
    blob = db.exec(select(Hub.secret_enc).where(Hub.state != REVOKED).limit(1)).first()
    if not blob:
        return True
    try:
        secrets.unseal_hub_secret(settings, blob)
    except secrets.SecretError:
        return False
    return True
