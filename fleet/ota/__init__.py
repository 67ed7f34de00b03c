"""Over-the-air updates, fleet side (protocol/README.md "OTA"; the contract in
releases.py, campaigns.py, deployments.py): signed releases are stored and checked,
campaigns roll them out in waves, and each hub's deployment follows LwM2M's Firmware
Update states until the new version has booted, confirmed itself and sent telemetry."""

from datetime import UTC

IDLE, WAITING, DOWNLOADING, DOWNLOADED = "idle", "waiting", "downloading", "downloaded"
UPDATING, CONFIRMING, UPDATED, FAILED = "updating", "confirming", "updated", "failed"
FINAL = (UPDATED, FAILED)
# Offered to the hub (heartbeat key 3) in these states; later ones need no offer.
OFFERABLE = (IDLE, WAITING, DOWNLOADING, DOWNLOADED, UPDATING)
DRAFT, RUNNING, PAUSED, FINISHED, CANCELLED = (
    "draft",
    "running",
    "paused",
    "finished",
    "cancelled",
)


class OTAError(Exception):
    """A refused OTA step. `reason` is safe to show; `status` is the HTTP status a
    client should get (400 refused, 404 unknown, 409 wrong state, 413 too big)."""

    def __init__(self, reason, status=400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def hardware_class(hub):
    """The release hardware class a hub runs: Hub.hardware when it names one
    ("cpython-linux"), else MicroPython on that chip (provisioning's "esp32")."""
    hw = hub.hardware or "esp32"
    return hw if "-" in hw else "micropython-" + hw


def aware(value):
    """SQLite hands back naive datetimes; every one stored is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def utc(value):
    """An ISO 8601 UTC time for JSON, or None."""
    return None if value is None else aware(value).isoformat()
