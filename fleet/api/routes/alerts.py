"""Alerts: list, read, acknowledge and resolve; service figures for admins.

Who sees which alerts is fleet.services.scope's rule (scope.alerts), as for every other
row; anything else answers 404, as if it did not exist.
"""

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from fleet import secrets
from fleet.alerts import figures as service_figures
from fleet.alerts import lifecycle
from fleet.api.deps import CurrentUser, SessionDep, UTCDatetime, require
from fleet.models import (
    ADMIN,
    Alert,
    NotificationSettings,
    User,
    utcnow,
)
from fleet.services import scope
from fleet.services.audit import audit

router = APIRouter(prefix="/alerts", tags=["alerts"])
Admin = Annotated[User, Depends(require(ADMIN))]


class AlertPublic(BaseModel):
    id: int
    resident_id: int
    rule: str
    subject: str
    severity: str
    audience: str
    state: str
    text: str = Field(description="why, in the reader's language")
    since: UTCDatetime
    opened_at: UTCDatetime
    notified_at: UTCDatetime | None
    acknowledged_at: UTCDatetime | None
    acknowledged_by: int | None
    resolved_at: UTCDatetime | None
    resolved_by: int | None
    resolution: str | None
    resolution_note: str
    repeats: int
    level: int
    round: int


class ResolveIn(BaseModel):
    reason: Literal["handled", "false_alarm", "other"] = "handled"
    note: str = Field(default="", max_length=500)


class Figures(BaseModel):
    days: int
    critical: int
    acked_60s: float | None = Field(description="share of critical alerts acked within 60 s")
    acked_180s: float | None
    median_ack_s: float | None
    false_alarms: int
    resident_days: float
    false_alarm_rate: float | None = Field(description="false alarms per resident-day")


def _public(alert, user):
    text = lifecycle.condition(alert).text(user.language)
    return AlertPublic(text=text, **alert.model_dump(exclude={"facts", "open_key"}))


def _alert_or_404(db, user, alert_id):
    alert = db.exec(scope.visible(user, Alert).where(Alert.id == alert_id)).first()
    if alert is None:
        raise HTTPException(status_code=404, detail="no such alert")
    return alert


@router.get("/figures", response_model=Figures, summary="Service figures")
def read_figures(db: SessionDep, admin: Admin, days: Annotated[int, Query(ge=1, le=366)] = 30):
    """Critical alerts acknowledged within 60 s and 180 s, median time to acknowledge,
    false alarms per resident-day, over the last `days`. Roles: admin."""
    end = utcnow()
    return Figures(days=days, **service_figures.figures(db, end - timedelta(days=days), end))


class NotifyPublic(BaseModel):
    email: str | None = Field(default=None, description="None: your login e-mail; '': none")
    webhook_url: str = ""
    has_webhook_secret: bool = False
    apprise_urls: int = Field(default=0, description="how many (they may hold tokens)")
    language: str | None = None


class NotifyIn(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    webhook_url: str = Field(default="", max_length=500, pattern=r"^(https?://.*)?$")
    webhook_secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="None keeps the current one"
    )
    apprise_urls: list[str] = Field(default_factory=list, max_length=10)
    language: Literal["it", "en"] | None = None


def _notify_public(ns):
    if ns is None:
        return NotifyPublic()
    return NotifyPublic(
        email=ns.email,
        webhook_url=ns.webhook_url,
        has_webhook_secret=ns.webhook_secret_enc is not None,
        apprise_urls=len(ns.apprise_urls or []),
        language=ns.language,
    )


@router.get("/notifications/me", response_model=NotifyPublic, summary="My notification channels")
def read_my_channels(db: SessionDep, user: CurrentUser):
    """How you are told about alerts. Roles: all."""
    return _notify_public(db.get(NotificationSettings, user.id))


@router.put("/notifications/me", response_model=NotifyPublic, summary="Set my channels")
def set_my_channels(body: NotifyIn, request: Request, db: SessionDep, user: CurrentUser):
    """E-mail address, signed webhook (URL and secret), apprise URLs and language.
    Roles: all."""
    ns = db.get(NotificationSettings, user.id) or NotificationSettings(user_id=user.id)
    ns.email, ns.webhook_url = body.email, body.webhook_url
    ns.apprise_urls, ns.language = body.apprise_urls, body.language
    if body.webhook_secret is not None:
        ns.webhook_secret_enc = secrets.seal(
            request.app.state.settings, body.webhook_secret.encode()
        )
    db.add(ns)
    audit(db, user, "update", "notificationsettings", user.id, webhook=bool(body.webhook_url))
    db.commit()
    return _notify_public(ns)


@router.get("", response_model=list[AlertPublic], summary="List alerts")
def list_alerts(
    db: SessionDep,
    user: CurrentUser,
    unresolved: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
):
    """Newest first; unresolved only unless `unresolved=false`. Roles: all, scoped."""
    stmt = scope.visible(user, Alert)
    if unresolved:
        stmt = stmt.where(Alert.state.in_(lifecycle.UNRESOLVED))
    rows = db.exec(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit)).all()
    return [_public(a, user) for a in rows]


@router.get("/{alert_id}", response_model=AlertPublic, summary="Read an alert")
def read_alert(alert_id: int, db: SessionDep, user: CurrentUser):
    """Roles: all, scoped (404 outside it)."""
    return _public(_alert_or_404(db, user, alert_id), user)


@router.post("/{alert_id}/acknowledge", response_model=AlertPublic, summary="Take charge")
def acknowledge(alert_id: int, db: SessionDep, user: CurrentUser):
    """I am taking care of it: escalation stops. Acknowledging again changes nothing.
    Roles: all, scoped."""
    alert = _alert_or_404(db, user, alert_id)
    lifecycle.acknowledge(db, alert, user, utcnow())
    db.commit()
    return _public(alert, user)


@router.post("/{alert_id}/resolve", response_model=AlertPublic, summary="Close an alert")
def resolve(alert_id: int, body: ResolveIn, db: SessionDep, user: CurrentUser):
    """Close it as handled, a false alarm or other, with a note. Roles: all, scoped."""
    alert = _alert_or_404(db, user, alert_id)
    lifecycle.resolve(db, alert, user, utcnow(), body.reason, body.note)
    db.commit()
    return _public(alert, user)
