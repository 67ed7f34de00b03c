"""The ways a notification leaves the server. Each sender is blocking (run it in a
thread) and raises DeliveryError with a short reason when the receiver did not take it.

    send_email(settings, to, payload, key)       # SMTP; Message-ID from the outbox key
    Mailer(settings).send(to, payload, key)      # the same, several over one session
    send_webhook(url, secret, payload, key, now) # POST JSON, HMAC-SHA256 signed
    send_apprise(url, payload)                   # any service apprise knows (its URL)
    verify_webhook(secret, headers, body, now)   # what a receiver does with our webhooks

The outbox records each hand-over the moment the receiver answers (SMTP 250 to DATA,
HTTP 2xx); a crash in the few milliseconds between that answer and the commit sends
the message again after restart, with the same Message-ID / Idempotency-Key, so the
receiver can drop the copy.

Webhook signature: header X-Portineria-Signature: "sha256=" + hex HMAC-SHA256(secret,
timestamp + "." + body), with X-Portineria-Timestamp the Unix time of sending; a
receiver refuses a timestamp more than 5 minutes away from its clock (replays).
"""

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate

SIGNATURE = "X-Portineria-Signature"
TIMESTAMP = "X-Portineria-Timestamp"
IDEMPOTENCY = "Idempotency-Key"
TOLERANCE_S = 300


class DeliveryError(Exception):
    """The receiver did not take the message; str() is safe to store as last_error.
    `connection`: the channel itself is down, not just this message refused."""

    def __init__(self, reason, connection=False):
        super().__init__(reason)
        self.connection = connection


def message_id(key):
    return f"<{key}@portineria>"


def email_message(settings, to, payload, key):
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = payload["subject"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(key)
    msg["Content-Language"] = payload.get("language", "it")
    msg.set_content(payload["body"])
    return msg


class Mailer:
    """One SMTP session for several messages, opened at the first send. send() returns
    as soon as the server answered 250 to the message's DATA — before QUIT, so that the
    caller can record the hand-over at once; close() says QUIT afterwards."""

    def __init__(self, settings):
        self.settings = settings
        self._smtp = None

    def send(self, to, payload, key):
        """Hand one message over; DeliveryError(connection=True) when the session broke
        (later messages should wait for another round), connection=False when only this
        message was refused."""
        s = self.settings
        if not s.smtp_host:
            raise DeliveryError("no SMTP server configured (FLEET_SMTP_HOST)", connection=True)
        try:
            if self._smtp is None:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
                self._smtp = smtp
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
            self._smtp.send_message(email_message(s, to, payload, key))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as e:
            raise DeliveryError(f"SMTP: {e}"[:300]) from None
        except smtplib.SMTPDataError as e:
            raise DeliveryError(f"SMTP: {e}"[:300], connection=e.smtp_code == 421) from None
        except (OSError, smtplib.SMTPException) as e:
            self._drop()
            raise DeliveryError(f"SMTP: {e}"[:300], connection=True) from None

    def _drop(self):
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def close(self):
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass  # every message was already answered: QUIT is a courtesy
            self._drop()


def send_email(settings, to, payload, key):
    mailer = Mailer(settings)
    try:
        mailer.send(to, payload, key)
    finally:
        mailer.close()


def sign(secret, timestamp, body):
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send_webhook(url, secret, payload, key, now):
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    stamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP: str(stamp),
        IDEMPOTENCY: key,
        "User-Agent": "portineria-fleet",
    }
    if secret:
        headers[SIGNATURE] = sign(secret, stamp, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read(1024)
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"webhook answered {e.code}") from None
    except (OSError, ValueError) as e:
        raise DeliveryError(f"webhook: {e}"[:300]) from None


def verify_webhook(secret, headers, body, now):
    """True if `body` with these headers (a case-insensitive mapping) was signed with
    `secret` within TOLERANCE_S of `now` (a datetime)."""
    stamp = headers.get(TIMESTAMP, "")
    given = headers.get(SIGNATURE, "")
    if not stamp.isdigit() or abs(now.timestamp() - int(stamp)) > TOLERANCE_S:
        return False
    return hmac.compare_digest(given, sign(secret, int(stamp), body))


def send_apprise(url, payload):
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise DeliveryError("apprise does not understand this URL")
    if not notifier.notify(body=payload["body"], title=payload["subject"]):
        raise DeliveryError("apprise could not deliver")
