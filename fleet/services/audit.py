"""The audit log: every change, by any door (HTTP, CoAP, tools), is one AuditLog row.

    audit(db, user, action, entity, entity_id, **detail)

The caller commits, so the row lands in the same transaction as the change it records.
Detail values that look like secrets are never stored: names containing password,
hash, token, secret or salt, or ending in _key or _enc (a sensor's plain "key" is its
SenML id, not a secret), are replaced by "***", and bytes are never written.
"""

from datetime import date, datetime

from fleet.models import AuditLog

_SECRET_WORDS = ("password", "hash", "token", "secret", "salt")
_SECRET_ENDINGS = ("_key", "_enc")


def _is_secret(name):
    name = name.lower()
    return any(word in name for word in _SECRET_WORDS) or name.endswith(_SECRET_ENDINGS)


def _clean(name, value):
    if _is_secret(name):
        return "***"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "***"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(name, v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def audit(db, user, action, entity, entity_id, **detail):
    """Add the AuditLog row for one change; `user` is None for the system (a hub, a sweep)."""
    row = AuditLog(
        user_id=user.id if user is not None else None,
        action=action,
        entity=entity,
        entity_id=str(entity_id if entity_id is not None else ""),
        detail={k: _clean(k, v) for k, v in detail.items()},
    )
    db.add(row)
    return row


def changes(before, after):
    """{field: [old, new]} for the fields of `after` (a dict) that differ from `before`."""
    out = {}
    for name, new in after.items():
        old = before.get(name)
        if old != new:
            out[name] = [old, new]
    return out
