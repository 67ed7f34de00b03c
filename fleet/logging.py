"""Structured logs: one JSON object per line on stderr, for journald or a log shipper.

    setup(settings)                                   # once, in `python -m fleet`
    log.info("hub revoked", extra={"hub": "hub-1a2b"}) # extra fields become keys

Nothing secret reaches a log line: fields whose name suggests a secret are replaced by
"[redacted]", and bytes values (keys, OSCORE ids, payloads) are shown only by length.
"""

import json
import logging
import traceback
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SECRET_WORDS = ("secret", "password", "token", "key", "salt", "code", "cookie", "auth")


def _safe(name, value):
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return "[redacted]"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class JSONFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = _safe(name, value)
        if record.exc_info:
            # The exception's type and where it was raised only: its message and the
            # source lines may quote a payload or a secret.
            exc = record.exc_info[1]
            line["error"] = type(exc).__name__
            line["trace"] = [
                f"{f.filename}:{f.lineno} in {f.name}"
                for f in traceback.extract_tb(exc.__traceback__)[-5:]
            ]
        return json.dumps(line, ensure_ascii=False)


def setup(settings, stream=None):
    """Route the root logger (and uvicorn's and aiocoap's) through JSONFormatter."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiocoap"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Alembic narrates every plugin it loads at INFO; only its problems matter here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler
