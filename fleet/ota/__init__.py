"""Over-the-air updates, fleet side (protocol/README.md "OTA"; the contract in
releases.py, campaigns.py, deployments.py): signed releases are stored and checked,
campaigns roll them out in waves, and each hub's deployment follows LwM2M's Firmware
Update states until the new version has booted, confirmed itself and sent telemetry.
A refusal is one OTAError naming its reason by code (MESSAGES), with its parameters, and
so is every reason written into a Deployment's `detail` (coded() and decoded())."""

import json
from datetime import UTC

from fleet.models import Hub

IDLE, WAITING, DOWNLOADING, DOWNLOADED = "idle", "waiting", "downloading", "downloaded"
UPDATING, CONFIRMING, UPDATED, FAILED = "updating", "confirming", "updated", "failed"
FINAL = (UPDATED, FAILED)
# Offered to the hub (heartbeat key 3) in these states; later ones need no offer.
OFFERABLE = (IDLE, WAITING, DOWNLOADING, DOWNLOADED, UPDATING)
# A release's component (manifest key 3): the application, or the MicroPython image.
IMAGE = "micropython"
DRAFT, RUNNING, PAUSED, FINISHED, CANCELLED = (
    "draft",
    "running",
    "paused",
    "finished",
    "cancelled",
)


# Reason codes -> the English sentence their parameters fill in (the API's `detail`,
# the tools' message). A code is a contract: clients and the pages (ota_r_<code>) key
# on it, so rename none; add new ones.
MESSAGES = {
    # Releases (releases.py, and the upload forms and routes).
    "no_release_keys": "no trusted release keys: set FLEET_RELEASE_KEYS",
    "release_keys_unreadable": "cannot read the trusted release keys {path}: {error}",
    "release_keys_invalid": "{path} is not an ota.keys file ([[kid, key], ...])",
    "untrusted_key": "manifest signed by an untrusted key",
    "bad_signature": "manifest signature does not verify",
    "not_signed": "not a signed manifest: {error}",
    "manifest_not_cbor": "manifest payload is not CBOR: {error}",
    "manifest_format": "manifest is not format 1",
    "manifest_seq": "manifest sequence number missing or out of range",
    "manifest_field": "manifest {field} missing or not short text",
    "size_mismatch": "bundle is {size} bytes, the manifest says {said}",
    "digest_mismatch": "bundle SHA-256 differs from the manifest's",
    "too_big": "{what} larger than {limit} bytes",
    "duplicate_seq": "a release with sequence number {seq} is already stored",
    "no_release": "no such release",
    "choose_file": "choose the {what} file",
    # Campaigns (campaigns.py, and the campaign form).
    "choose_release": "choose a release",
    "no_campaign": "no such campaign",
    "hardware_mismatch": "release {version} is for {hw}, not {other}",
    "shares": "success_share is in (0, 1] and failure_share in [0, 1)",
    "not_percentage": "{text!r} is not a percentage",
    "waves_whole": "waves are whole percentages, e.g. 1, 10, 50, 100",
    "waves_range": "waves are cumulative percentages from 1 to 100, ending at 100",
    "waves_grow": "waves must grow",
    "window_shape": "a window is [start, end]",
    "window_time": "a window time is HH:MM, not {text!r}",
    "window_empty": "a window's start and end differ",
    "wrong_state": "a {state} campaign cannot {action}",
    "no_hub": "no hub matches this campaign",
    # Why a campaign paused, when no person typed a reason (Campaign.paused_reason).
    "paused_by_hand": "paused by hand",
    "wave_failed": "wave {wave}: {failed} of {hubs} hubs failed",
    # A hub's deployment (Deployment.detail): why its install is held back or failed, and
    # what the hub last reported (heartbeat key 9). in_state is a deployment state.
    "held_emergencies": "the hub has emergency events not yet delivered",
    "held_alert": "an alert is open for a resident",
    "timed_out": "timed out in state {in_state}",
    "deferred_too_long": "deferred too long in state {in_state}",
    "progress": "{bytes} bytes downloaded",
    "verified": "{version} downloaded and verified",
    "installing": "installing {version}",
    "reported": "the hub runs {version}, telemetry from it awaited",
    "rolled_back": "{version} failed its trial: the hub went back to the previous version",
    "hub_failed": "the hub failed and tries again at the next offer: {error}",
    # The hub refused the release (key 9 "refused" and its one word; firmware/hub/ota*.py).
    "refused_signature": "the hub refused it: no trusted key signed the manifest",
    "refused_manifest": "the hub refused it: the manifest is unreadable",
    "refused_sequence": "the hub refused it: not newer than what it has run",
    "refused_hardware": "the hub refused it: made for other hardware",
    "refused_space": "the hub refused it: not enough flash",
    "refused_size": "the hub refused it: the bundle is longer than the manifest says",
    "refused_integrity": "the hub refused it: the bundle does not match the manifest",
    "refused": "the hub refused it: {text}",
}


def message(code, params):
    """The English sentence for reason `code` with its `params`."""
    return MESSAGES[code].format(**params)


_PARAM_MAX = 80  # a text parameter from a hub is cut here (its error, its version)


def coded(code, **params):
    """Reason `code` with its `params` as Deployment.detail stores it: JSON
    {"code": code, "params": {...}}, e.g. {"code":"timed_out","params":{"in_state":"idle"}}.
    A download's progress is kept as its bare byte count ("2048", as count_block writes
    "0"): the hub repeats it in every heartbeat and it is compared as it comes."""
    params = {k: v[:_PARAM_MAX] if isinstance(v, str) else v for k, v in params.items()}
    return json.dumps({"code": code, "params": params}, separators=(",", ":"))


def decoded(detail):
    """(code, params) of a stored Deployment.detail, or None for "" and for free text
    written before the codes (shown as it is)."""
    if detail.isascii() and detail.isdigit():
        return "progress", {"bytes": int(detail)}
    if not detail.startswith("{"):
        return None
    try:
        d = json.loads(detail)
    except ValueError:
        return None
    ok = isinstance(d, dict) and d.get("code") in MESSAGES and isinstance(d.get("params"), dict)
    return (d["code"], d["params"]) if ok else None


def detail_text(detail):
    """A stored Deployment.detail in English: the code's sentence, or the old text."""
    reason = decoded(detail)
    if reason is None:
        return detail
    try:
        return message(*reason)
    except (KeyError, IndexError, ValueError):
        return detail  # params that do not fit the sentence: shown as stored, never lost


class OTAError(Exception):
    """A refused OTA step: `code` (a key of MESSAGES) names it, `params` are its variable
    parts (JSON values), `reason` is the English sentence built from both; `status` is
    the HTTP status a client should get (400 refused, 404 unknown, 409 wrong state,
    413 too big, 500 the fleet's own setup)."""

    def __init__(self, code, status=400, **params):
        self.code, self.params, self.status = code, params, status
        self.reason = message(code, params)
        super().__init__(self.reason)


def version_column(component):
    """The Hub column holding the version a hub runs of `component`: heartbeat key 11 for
    the MicroPython image, key 5 for the application."""
    return Hub.image_version if component == IMAGE else Hub.firmware_version


def running_version(hub, component):
    """The version of `component` that `hub` last reported running."""
    return hub.image_version if component == IMAGE else hub.firmware_version


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
