"""Passwords and tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults). A login for an unknown
email still runs one argon2 verification, so the answer takes as long as for a wrong
password and does not reveal which emails exist.

Web sessions (cookie), tools' bearer tokens and invitations are random 256-bit strings;
only their SHA-256 is stored (AuthToken.token_hash), so a database dump logs nobody in.
Each has a kind: sessions and bearer tokens log in (user_for_token), an invitation only
lets its user set a password, once (invited_user, accept_invitation). Neither works as
the other.
"""

import hashlib
import secrets
from datetime import UTC, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlmodel import select

from fleet.models import AuthToken, User, utcnow
from fleet.services.audit import audit

SESSION, BEARER, INVITE = "session", "bearer", "invite"
LOGIN_KINDS = (SESSION, BEARER)
BEARER_DAYS = 90  # tools are re-issued a token at most quarterly
INVITE_HOURS = 72  # long enough for a weekend, short enough that a lost link goes stale
_LAST_USED_EVERY = timedelta(minutes=5)  # not a write per request

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost one argon2 verify.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """True if `password` matches; any malformed hash counts as a mismatch."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(db, email, password):
    """The active user with this email and password, or None (same cost either way)."""
    user = db.exec(select(User).where(User.email == normalise_email(email))).first()
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.add(user)
    return user


def normalise_email(email):
    return (email or "").strip().lower()


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db, settings, user, kind=SESSION, name=""):
    """A new token for `user` (returned once, in clear); the caller commits."""
    token = secrets.token_urlsafe(32)
    life = {
        SESSION: timedelta(hours=settings.session_hours),
        BEARER: timedelta(days=BEARER_DAYS),
        INVITE: timedelta(hours=INVITE_HOURS),
    }[kind]
    row = AuthToken(
        user_id=user.id,
        token_hash=token_hash(token),
        kind=kind,
        name=name,
        expires_at=utcnow() + life,
    )
    db.add(row)
    return token, row


def _aware(dt):
    # SQLite hands back naive datetimes; every one we store is UTC.
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=UTC)


def _live(db, token, kinds):
    """(row, user) for a live token of one of `kinds` whose user is active, or (None, None)."""
    if not token or len(token) > 200:
        return None, None
    row = db.exec(
        select(AuthToken).where(
            AuthToken.token_hash == token_hash(token), AuthToken.kind.in_(kinds)
        )
    ).first()
    if row is None or (row.expires_at is not None and _aware(row.expires_at) <= utcnow()):
        return None, None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None, None
    return row, user


def user_for_token(db, token):
    """The active user a live session or bearer token belongs to, or None (an invitation
    logs nobody in)."""
    row, user = _live(db, token, LOGIN_KINDS)
    if user is None:
        return None
    now = utcnow()
    last = _aware(row.last_used)
    if last is None or now - last > _LAST_USED_EVERY:
        row.last_used = now
        db.add(row)
        db.commit()
    return user


def revoke_token(db, token):
    """Forget a token (logout); the caller commits. True if it existed."""
    row = db.exec(select(AuthToken).where(AuthToken.token_hash == token_hash(token))).first()
    if row is None:
        return False
    db.delete(row)
    return True


def invite(db, settings, user, by):
    """A new invitation for `user`, made by the admin `by` (audited, token left out),
    replacing any earlier one, which stops working: (link, expires_at). The link holds
    the token in clear and is returned once; the caller commits."""
    db.exec(delete(AuthToken).where(AuthToken.user_id == user.id, AuthToken.kind == INVITE))
    token, row = issue_token(db, settings, user, INVITE)
    audit(db, by, "invite", "user", user.id, expires_at=row.expires_at.isoformat())
    return settings.public_url.rstrip("/") + "/invite/" + token, row.expires_at


def invited_user(db, token):
    """The active user a live invitation is for, or None (a login token is no invitation)."""
    return _live(db, token, (INVITE,))[1]


def accept_invitation(db, token, password):
    """Set the invited user's password and spend the invitation. Every other token of the
    user ends too, as with any password change. The user, or None if the invitation is
    not live; the caller commits."""
    user = invited_user(db, token)
    if user is None:
        return None
    user.password_hash = hash_password(password)
    db.add(user)
    db.exec(delete(AuthToken).where(AuthToken.user_id == user.id))
    return user
