"""Sensors: what each hub reads, where, and for which flat. Admins and technicians add
and change them; volunteers read the ones of their condominiums. Every change here
changes the hub's configuration ETag (services/config.py), so the hub fetches it.

A BLE bind key is accepted on write and stored sealed (fleet/secrets.py); it is never
returned — SensorPublic says only whether one is set.
"""

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from sqlmodel import select

from fleet import secrets
from fleet.api.deps import SessionDep, UTCDatetime, require, visible_or_404
from fleet.models import ADMIN, TECHNICIAN, VOLUNTEER, Event, Flat, Hub, Reading, Sensor, User
from fleet.services import scope
from fleet.services.audit import audit, changes
from protocol.senml import KINDS

router = APIRouter(prefix="/sensors", tags=["sensors"])
Reader = Annotated[User, Depends(require(ADMIN, TECHNICIAN, VOLUNTEER))]
Writer = Annotated[User, Depends(require(ADMIN, TECHNICIAN))]
Room = Literal["entrance", "kitchen", "bathroom", "bedroom", "living"]
_KEY = r"^[A-Za-z0-9_.-]+$"  # a SenML name part: no "/"
_HEX = re.compile(r"^[0-9a-f]*$")
# Where a sensor is read: exactly one of these is set.
_PLACES = ("pin", "i2c_addr", "ble_addr")


def _hex_bytes(value, length, what):
    text = value.strip().lower().replace(":", "").replace("-", "")
    if len(text) != 2 * length or not _HEX.match(text):
        raise ValueError(f"{what} must be {length} bytes in hex")
    return text


class SensorBase(BaseModel):
    key: str = Field(min_length=1, max_length=32, pattern=_KEY)
    kind: str
    room: Room
    flat_id: int | None = None
    pin: int | None = Field(default=None, ge=0, le=48)
    active_level: Literal[0, 1] = 1
    i2c_addr: int | None = Field(default=None, ge=0x08, le=0x77)
    ble_addr: str | None = Field(default=None, description="MAC, e.g. A4:C1:38:00:11:22")
    checkin_s: int | None = Field(default=None, gt=0, le=7 * 86400)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v):
        if v not in KINDS:
            raise ValueError("unknown kind; one of " + ", ".join(sorted(KINDS)))
        return v

    @field_validator("ble_addr")
    @classmethod
    def _mac(cls, v):
        if v is None:
            return None
        text = _hex_bytes(v, 6, "ble_addr")
        return ":".join(text[i : i + 2] for i in range(0, 12, 2))  # one spelling for all


class SensorCreate(SensorBase):
    hub_id: str = Field(min_length=1, max_length=64, description="the hub's public id")
    ble_key: str | None = Field(default=None, description="BTHome bind key, 16 bytes hex")

    @field_validator("ble_key")
    @classmethod
    def _key(cls, v):
        return None if v is None else _hex_bytes(v, 16, "ble_key")


class SensorUpdate(BaseModel):
    key: str | None = Field(default=None, min_length=1, max_length=32, pattern=_KEY)
    kind: str | None = None
    room: Room | None = None
    flat_id: int | None = None
    pin: int | None = Field(default=None, ge=0, le=48)
    active_level: Literal[0, 1] | None = None
    i2c_addr: int | None = Field(default=None, ge=0x08, le=0x77)
    ble_addr: str | None = None
    ble_key: str | None = Field(default=None, description="16 bytes hex; empty string clears")
    checkin_s: int | None = Field(default=None, gt=0, le=7 * 86400)

    _kind = field_validator("kind")(SensorBase._kind.__func__)
    _mac = field_validator("ble_addr")(SensorBase._mac.__func__)

    @field_validator("ble_key")
    @classmethod
    def _key(cls, v):
        return v if not v else _hex_bytes(v, 16, "ble_key")


class SensorPublic(SensorBase):
    id: int
    hub_id: str
    has_ble_key: bool
    last_seen: UTCDatetime | None
    battery: float | None


def _public(sensor, hub):
    return SensorPublic(
        id=sensor.id,
        hub_id=hub.hub_id,
        key=sensor.key,
        kind=sensor.kind,
        room=sensor.room,
        flat_id=sensor.flat_id,
        pin=sensor.pin,
        active_level=sensor.active_level,
        i2c_addr=sensor.i2c_addr,
        ble_addr=":".join(f"{b:02x}" for b in sensor.ble_addr) if sensor.ble_addr else None,
        checkin_s=sensor.checkin_s,
        has_ble_key=bool(sensor.ble_key_enc),
        last_seen=sensor.last_seen,
        battery=sensor.battery,
    )


def _check(db, sensor, hub):
    """Refuse (422/409) a sensor the hub could not read or that clashes with another."""
    places = [p for p in _PLACES if getattr(sensor, p) is not None]
    if len(places) != 1:
        raise HTTPException(status_code=422, detail="set exactly one of pin, i2c_addr, ble_addr")
    if sensor.ble_key_enc and sensor.ble_addr is None:
        raise HTTPException(status_code=422, detail="ble_key needs ble_addr")
    if sensor.flat_id is not None:
        flat = db.get(Flat, sensor.flat_id)
        if flat is None or flat.condominium_id != hub.condominium_id:
            raise HTTPException(
                status_code=422, detail="flat_id: no such flat in the hub's building"
            )
    clash = db.exec(select(Sensor).where(Sensor.hub_id == hub.id, Sensor.key == sensor.key)).first()
    if clash is not None and clash.id != sensor.id:
        raise HTTPException(status_code=409, detail="that hub has a sensor with that key")


def _hub(db, user, hub_id):
    hub = db.exec(scope.hubs(user, select(Hub)).where(Hub.hub_id == hub_id)).first()
    if hub is None:
        raise HTTPException(status_code=422, detail="hub_id: no such hub")
    return hub


def _audit_fields(fields):
    # The bind key itself never reaches the log: only that it was set or cleared.
    out = dict(fields)
    if "ble_key" in out:
        out["ble_key_state"] = "set" if out.pop("ble_key") else "cleared"
    return out


@router.get("", response_model=list[SensorPublic], summary="List sensors")
def list_sensors(db: SessionDep, user: Reader, hub_id: str | None = None):
    """The sensors you may see, optionally of one hub. Roles: admin, technician, volunteer
    (their condominiums)."""
    stmt = select(Sensor, Hub).join(Hub, Hub.id == Sensor.hub_id)
    stmt = scope.sensors(user, stmt)
    if hub_id is not None:
        stmt = stmt.where(Hub.hub_id == hub_id)
    return [_public(s, h) for s, h in db.exec(stmt.order_by(Hub.hub_id, Sensor.key)).all()]


@router.post("", response_model=SensorPublic, status_code=201, summary="Add a sensor")
def create_sensor(body: SensorCreate, request: Request, db: SessionDep, user: Writer):
    """Roles: admin, technician."""
    hub = _hub(db, user, body.hub_id)
    data = body.model_dump(exclude={"hub_id", "ble_key", "ble_addr"})
    sensor = Sensor(**data, hub_id=hub.id)
    if body.ble_addr:
        sensor.ble_addr = bytes.fromhex(body.ble_addr.replace(":", ""))
    if body.ble_key:
        sensor.ble_key_enc = secrets.seal(request.app.state.settings, bytes.fromhex(body.ble_key))
    _check(db, sensor, hub)
    db.add(sensor)
    db.flush()
    fields = _audit_fields(body.model_dump(exclude_none=True))
    audit(db, user, "create", "sensor", sensor.id, **fields)
    db.commit()
    return _public(sensor, hub)


@router.get("/{sensor_id}", response_model=SensorPublic, summary="Read a sensor")
def read_sensor(sensor_id: int, db: SessionDep, user: Reader):
    """Roles: admin, technician, volunteer — 404 outside your scope."""
    sensor = visible_or_404(db, user, Sensor, sensor_id, "sensor")
    return _public(sensor, db.get(Hub, sensor.hub_id))


@router.patch("/{sensor_id}", response_model=SensorPublic, summary="Change a sensor")
def update_sensor(
    sensor_id: int, body: SensorUpdate, request: Request, db: SessionDep, user: Writer
):
    """Only the fields sent change; null clears pin, i2c_addr, ble_addr, flat_id or
    checkin_s, so a sensor can move from one place to another in one request.
    Roles: admin, technician."""
    sensor = visible_or_404(db, user, Sensor, sensor_id, "sensor")
    hub = db.get(Hub, sensor.hub_id)
    fields = body.model_dump(exclude_unset=True)
    for name in ("key", "kind", "room", "active_level"):
        if name in fields and fields[name] is None:
            del fields[name]
    before = _public(sensor, hub).model_dump()
    for name, value in fields.items():
        if name == "ble_addr":
            sensor.ble_addr = bytes.fromhex(value.replace(":", "")) if value else None
        elif name == "ble_key":
            key = bytes.fromhex(value) if value else None
            sensor.ble_key_enc = secrets.seal(request.app.state.settings, key) if key else None
        else:
            setattr(sensor, name, value)
    _check(db, sensor, hub)
    db.add(sensor)
    diff = changes(before, {k: v for k, v in fields.items() if k != "ble_key"})
    if "ble_key" in fields:
        diff.update(_audit_fields({"ble_key": fields["ble_key"]}))
    if diff:
        audit(db, user, "update", "sensor", sensor.id, changed=diff)
    db.commit()
    return _public(sensor, hub)


@router.delete("/{sensor_id}", status_code=204, summary="Remove a sensor")
def delete_sensor(sensor_id: int, db: SessionDep, user: Writer):
    """The hub stops reading it at its next configuration fetch; its stored readings
    keep their values but no longer name it. Roles: admin, technician."""
    sensor = visible_or_404(db, user, Sensor, sensor_id, "sensor")
    db.exec(update(Reading).where(Reading.sensor_id == sensor.id).values(sensor_id=None))
    db.exec(update(Event).where(Event.sensor_id == sensor.id).values(sensor_id=None))
    db.delete(sensor)
    audit(db, user, "delete", "sensor", sensor_id, key=sensor.key)
    db.commit()
