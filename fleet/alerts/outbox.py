"""The notification outbox: rows written in the transaction that changes an alert, sent
by `deliver_due`, retried with back-off.

    enqueue_alert(db, settings, alert, resident, user, step, now)  # one row per channel
    recover(db)                                   # at start: rows left "sending" go again
    await deliver_due(engine, settings, now)      # send what is due; returns how many sent

A row is claimed ("sending", committed) before the send and marked "sent" after, so a
restart never forgets a row and never resends one recorded as sent. A crash inside the
send leaves it "sending": recover() sends it again with the same idempotency key (the
e-mail's Message-ID, the webhook's Idempotency-Key) for the receiver to drop the copy —
at least once, never silently lost.
"""

import asyncio
import logging
from datetime import timedelta

from sqlmodel import select

from fleet import secrets
from fleet.alerts import channels, messages
from fleet.db import session
from fleet.models import ALERT_OPEN, Alert, Notification, NotificationSettings

log = logging.getLogger("fleet.alerts")
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
BATCH = 50  # rows claimed per round


def channels_of(db, settings, user):
    """[(channel, recipient)] and the language for `user`."""
    ns = db.get(NotificationSettings, user.id)
    lang = (ns.language if ns is not None and ns.language else None) or user.language
    email = user.email if ns is None or ns.email is None else ns.email
    out = [("email", email)] if email else []
    if ns is not None:
        if ns.webhook_url:
            out.append(("webhook", ns.webhook_url))
        out += [("apprise", url) for url in ns.apprise_urls or []]
    return out, lang


def enqueue_alert(db, settings, alert, resident, user, step, now):
    """Queue the alert for `user` on each of their channels; not committed."""
    targets, lang = channels_of(db, settings, user)
    payload = messages.compose(alert, resident, lang, settings.public_url)
    rows = []
    for i, (channel, recipient) in enumerate(targets):
        row = Notification(
            alert_id=alert.id,
            user_id=user.id,
            channel=channel,
            recipient=recipient,
            payload=payload,
            idempotency_key=f"alert-{alert.id}-step-{step}-{channel}-{i}",
            next_try=now,
        )
        db.add(row)
        rows.append(row)
    return rows


def recover(db):
    """Put rows a dead process left "sending" back in line; returns how many. Call once
    at start, before any worker of this process runs."""
    rows = db.exec(select(Notification).where(Notification.state == SENDING)).all()
    for row in rows:
        row.state = PENDING
        db.add(row)
    db.commit()
    return len(rows)


def _backoff(settings, attempts):
    return min(settings.notify_backoff_max_s, settings.notify_backoff_s * 2 ** (attempts - 1))


def _claim(engine, now):
    with session(engine) as db:
        rows = db.exec(
            select(Notification)
            .where(Notification.state == PENDING, Notification.next_try <= now)
            .order_by(Notification.next_try, Notification.id)
            .limit(BATCH)
        ).all()
        for row in rows:
            row.state, row.claimed_at, row.attempts = SENDING, now, row.attempts + 1
            db.add(row)
        db.commit()
        out = []
        for row in rows:
            secret = None  # read at sending time: a rotated secret applies at once
            if row.channel == "webhook" and row.user_id is not None:
                ns = db.get(NotificationSettings, row.user_id)
                secret = ns.webhook_secret_enc if ns is not None else None
            out.append((row, secret))
        return out


def _send(settings, row, secret, now):
    payload = row.payload
    if row.channel == "email":
        channels.send_email(settings, row.recipient, payload, row.idempotency_key)
    elif row.channel == "webhook":
        key = secrets.unseal(settings, secret) if secret else b""
        channels.send_webhook(row.recipient, key, payload, row.idempotency_key, now)
    elif row.channel == "apprise":
        channels.send_apprise(row.recipient, payload)
    else:
        raise channels.DeliveryError("unknown channel " + row.channel)


def _record(engine, settings, row_id, error, now):
    with session(engine) as db:
        row = db.get(Notification, row_id)
        if error is None:
            row.state, row.sent_at, row.last_error = SENT, now, None
            alert = db.get(Alert, row.alert_id) if row.alert_id is not None else None
            if alert is not None and alert.notified_at is None:
                alert.notified_at = now
                if alert.state == ALERT_OPEN:
                    alert.state = "notified"
                db.add(alert)
        else:
            row.last_error = error
            if row.attempts >= settings.notify_max_attempts:
                row.state = FAILED
            else:
                row.state = PENDING
                row.next_try = now + timedelta(seconds=_backoff(settings, row.attempts))
        db.add(row)
        db.commit()


async def deliver_due(engine, settings, now, clock=None):
    """Send every due row concurrently (a slow SMTP server must not hold up a webhook);
    returns the number sent. `clock()` gives the time recorded as sent_at."""
    claimed = await asyncio.to_thread(_claim, engine, now)

    async def one(row, secret):
        try:
            await asyncio.to_thread(_send, settings, row, secret, now)
            error = None
        except channels.DeliveryError as e:
            error = str(e)
        except Exception as e:  # a broken channel library must not stop the others
            log.exception("notification %s: unexpected failure", row.id)
            error = f"{type(e).__name__}: {e}"[:300]
        if error is not None:
            log.warning("notification %s via %s failed: %s", row.id, row.channel, error)
        await asyncio.to_thread(_record, engine, settings, row.id, error, clock() if clock else now)
        return error is None

    results = await asyncio.gather(*(one(row, secret) for row, secret in claimed))
    return sum(results)
