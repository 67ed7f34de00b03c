"""Enrolment on SQLite and PostgreSQL: provision, claim, activate, revoke, re-provision."""

import pytest
from sqlmodel import select

from fleet.db import session
from fleet.models import (
    CLAIMED,
    ONLINE,
    PROVISIONED,
    REVOKED,
    VOLUNTEER,
    AuditLog,
    Condominium,
    Flat,
    Hub,
    OscoreState,
    Sensor,
    User,
    VolunteerCondominium,
)
from fleet.secrets import unseal_hub_secret
from fleet.services import enrolment
from fleet.settings import Settings
from tools import identity


@pytest.fixture
def settings():
    return Settings(secret_key="s" * 40, claim_attempts_per_hour=3, coap_host="10.0.0.2")


@pytest.fixture
def db(engine):
    with session(engine) as db:
        yield db


@pytest.fixture
def volunteer(db):
    condo = Condominium(name="Via Padova 12")
    user = User(email="v@example.org", name="Vera", role=VOLUNTEER, password_hash="x")
    db.add_all([condo, user])
    db.commit()
    db.add(VolunteerCondominium(user_id=user.id, condominium_id=condo.id))
    db.commit()
    return user, condo


def test_provision_writes_exactly_the_hubs_secret(db, settings, tmp_path):
    p = enrolment.provision(db, settings, None, ssid="casa", wkey="pw")
    identity.write(tmp_path, p.identity)
    written = identity.read(tmp_path)
    hub = db.exec(select(Hub).where(Hub.hub_id == p.hub.hub_id)).one()
    assert written["hub"] == hub.hub_id and written["sid"] == hub.oscore_id
    assert (written["ms"], written["salt"]) == unseal_hub_secret(settings, hub.secret_enc)
    assert len(written["ms"]) == 16 and len(written["salt"]) == 8
    assert (written["host"], written["port"], written["ssid"]) == ("10.0.0.2", 5683, "casa")
    # At rest only sealed: neither secret nor the claim code appears in the row.
    assert written["ms"] not in hub.secret_enc and written["salt"] not in hub.secret_enc
    assert p.claim_code not in (hub.claim_code_hash or "")
    assert hub.state == PROVISIONED
    assert repr(p) == f"<Provisioned hub {hub.hub_id}>"


def test_hubs_get_distinct_ids_and_secrets(db, settings):
    a = enrolment.provision(db, settings, None)
    b = enrolment.provision(db, settings, None)
    assert a.hub.hub_id != b.hub.hub_id
    assert a.identity["sid"] != b.identity["sid"]
    assert a.identity["ms"] != b.identity["ms"]
    assert a.claim_code != b.claim_code


def test_claim_is_single_use(db, settings, volunteer):
    user, condo = volunteer
    p = enrolment.provision(db, settings, None)
    typed = enrolment.format_code(p.claim_code).lower()  # as a person types it off a label
    hub = enrolment.claim(db, settings, user, typed, "192.0.2.1", condo.id)
    assert (hub.state, hub.condominium_id, hub.claim_code_hash) == (CLAIMED, condo.id, None)
    with pytest.raises(enrolment.EnrolmentError) as e:
        enrolment.claim(db, settings, user, p.claim_code, "192.0.2.1", condo.id)
    assert e.value.status == 404


def test_claim_by_qr_url(db, settings, volunteer):
    user, condo = volunteer
    p = enrolment.provision(db, settings, None)
    url = enrolment.claim_url(settings, p.claim_code)
    assert enrolment.claim(db, settings, user, url, "192.0.2.1", condo.id).state == CLAIMED


def test_wrong_code_then_rate_limit_per_user_and_per_address(db, settings, volunteer):
    user, condo = volunteer
    p = enrolment.provision(db, settings, None)
    for _ in range(3):
        with pytest.raises(enrolment.EnrolmentError) as e:
            enrolment.claim(db, settings, user, "0000-0000-0000", "192.0.2.1", condo.id)
        assert e.value.status == 404
    # Even the right code is refused now, from this user on another address…
    with pytest.raises(enrolment.EnrolmentError) as e:
        enrolment.claim(db, settings, user, p.claim_code, "192.0.2.99", condo.id)
    assert e.value.status == 429
    # …and from this address by another user.
    other = User(email="o@example.org", name="O", role="admin", password_hash="x")
    db.add(other)
    db.commit()
    with pytest.raises(enrolment.EnrolmentError) as e:
        enrolment.claim(db, settings, other, p.claim_code, "192.0.2.1", condo.id)
    assert e.value.status == 429
    assert enrolment.claim(db, settings, other, p.claim_code, "192.0.2.2", condo.id)
    refused = db.exec(select(AuditLog).where(AuditLog.action == "claim-refused")).all()
    assert len(refused) == 3


def test_claim_only_into_own_condominium(db, settings, volunteer):
    user, _ = volunteer
    elsewhere = Condominium(name="Corso Lodi 3")
    db.add(elsewhere)
    db.commit()
    p = enrolment.provision(db, settings, None)
    with pytest.raises(enrolment.EnrolmentError) as e:
        enrolment.claim(db, settings, user, p.claim_code, "192.0.2.1", elsewhere.id)
    assert e.value.status == 403
    assert db.get(Hub, p.hub.id).state == PROVISIONED


def test_set_up_provisions_claims_and_registers_the_sensors(db, settings, volunteer):
    user, condo = volunteer
    flat = Flat(condominium_id=condo.id, label="3B")
    db.add(flat)
    db.commit()
    sensors = [
        {"id": "panic", "kind": "panic", "room": "living", "pin": 4, "active": 0},
        {"id": "sht", "kind": "temperature", "room": "living", "i2c": 0x44},
    ]
    made = enrolment.set_up(db, settings, None, user, condo.id, flat.id, sensors, ssid="casa")
    hub = db.exec(select(Hub).where(Hub.hub_id == made.hub.hub_id)).one()
    assert (hub.state, hub.condominium_id) == (CLAIMED, condo.id)
    rows = db.exec(select(Sensor).where(Sensor.hub_id == hub.id).order_by(Sensor.key)).all()
    got = [(r.key, r.kind, r.flat_id, r.pin, r.active_level, r.i2c_addr) for r in rows]
    assert got == [
        ("panic", "panic", flat.id, 4, 0, None),
        ("sht", "temperature", flat.id, None, 1, 0x44),
    ]


@pytest.mark.parametrize("text", ["", "short", "0000-0000-000U", "http://x/claim?c=1"])
def test_malformed_codes_do_not_normalise(text):
    assert enrolment.normalise_code(text) is None


def test_activate_once_and_never_a_revoked_hub(db, settings):
    p = enrolment.provision(db, settings, None)
    assert enrolment.activate(db, p.hub) is True
    first = p.hub.activated_at
    assert p.hub.state == ONLINE and first is not None
    assert enrolment.activate(db, p.hub) is False
    enrolment.revoke(db, p.hub, None)
    assert enrolment.activate(db, p.hub) is False
    assert db.get(Hub, p.hub.id).state == REVOKED


def test_revoke_notifies_and_wipes_the_secret(db, settings):
    p = enrolment.provision(db, settings, None)
    db.add(OscoreState(hub_id=p.hub.id, sender_seq=64))
    db.commit()
    seen = []
    enrolment.on_revoke.append(lambda hub_id, sid: seen.append((hub_id, sid)))
    try:
        enrolment.revoke(db, p.hub, None, reason="stolen")
    finally:
        enrolment.on_revoke.clear()
    hub = db.get(Hub, p.hub.id)
    assert (hub.state, hub.secret_enc) == (REVOKED, b"")
    assert hub.revoked_at is not None and not enrolment.is_accepted(hub)
    assert seen == [(hub.hub_id, p.identity["sid"])]
    assert db.get(OscoreState, hub.id) is None


def test_reprovision_replaces_the_context_keeps_the_record(db, settings, volunteer):
    user, condo = volunteer
    p = enrolment.provision(db, settings, None)
    enrolment.claim(db, settings, user, p.claim_code, "192.0.2.1", condo.id)
    enrolment.revoke(db, p.hub, None)
    q = enrolment.reprovision(db, settings, p.hub, None)
    hub = db.get(Hub, p.hub.id)
    assert q.hub.hub_id == p.hub.hub_id and q.claim_code is None
    assert (hub.state, hub.condominium_id, hub.revoked_at) == (CLAIMED, condo.id, None)
    assert hub.oscore_id == q.identity["sid"] != p.identity["sid"]
    assert unseal_hub_secret(settings, hub.secret_enc) == (q.identity["ms"], q.identity["salt"])
    assert q.identity["ms"] != p.identity["ms"]
    actions = [a.action for a in db.exec(select(AuditLog).order_by(AuditLog.id)).all()]
    assert actions == ["provision", "claim", "revoke", "reprovision"]
