"""Every setting of the fleet server, from FLEET_* environment variables or `.env`.

Defaults work out of the box for a demo on one machine (SQLite file, demo secret key);
production mode refuses to start with the demo key. Nothing reads settings at import
time: call get_settings(), so tests and tools can set the environment first.
"""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "demo-secret-key-do-not-use-in-production-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEET_", env_file=".env", extra="ignore")

    environment: str = "development"  # "production" enables the safety checks below
    database_url: str = "sqlite:///var/fleet.db"
    # Encrypts hub secrets at rest and signs nothing else; rotate with care: hubs'
    # OSCORE secrets are unreadable without it.
    secret_key: str = DEMO_SECRET_KEY
    coap_host: str = "127.0.0.1"
    coap_port: int = 5683
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    heartbeat_interval_s: int = 60
    readings_interval_s: int = 300  # how often a hub sends its batch of measurements
    offline_after_missed: int = 5  # heartbeats missed before a hub is marked offline
    health_history_days: int = 30  # heartbeat figures kept per hub
    hub_rate_per_s: float = 20.0  # sustained CoAP requests per hub
    hub_rate_burst: int = 40
    claim_attempts_per_hour: int = 10  # per user and per client address
    session_hours: int = 12
    log_level: str = "INFO"
    # Alerts (fleet/alerts): how long each level of a care circle has to acknowledge
    # before the next is called, and the outbox worker's pace.
    alert_timeout_critical_s: int = 180
    alert_timeout_s: int = 900  # urgent, warning and technical alerts
    alerts_tick_s: float = 1.0  # rules, escalation and outbox checked at least this often
    notify_max_attempts: int = 20  # then the notification is "failed"; escalation goes on
    notify_backoff_s: float = 5.0  # doubled per attempt, up to notify_backoff_max_s
    notify_backoff_max_s: float = 600.0
    # E-mail; no smtp_host: e-mail notifications fail with that reason (other channels work).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "portineria@localhost"
    smtp_timeout_s: float = 10.0
    # Local time of the condominiums (OTA maintenance windows).
    timezone: str = "Europe/Rome"
    # Over-the-air updates (fleet/ota). release_keys: path of an `ota.keys` file
    # (tools/release.py trust/pubkey: CBOR [[kid, key], ...]) — public keys only; without
    # it no release is accepted.
    release_keys: str = ""
    ota_max_bundle_bytes: int = 1 << 20
    ota_deployment_timeout_s: int = 1800  # a deployment stuck this long in a state fails
    ota_max_deferral_s: int = 6 * 3600  # safety deferral, then "deferred too long"
    ota_tick_s: float = 10.0  # campaigns advanced, paused and timed out this often

    def check(self):
        """Refuse settings that would be unsafe for real residents."""
        if self.environment == "production":
            if self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32:
                raise RuntimeError(
                    "FLEET_SECRET_KEY must be set to a private value of 32+ characters "
                    "in production"
                )
        return self

    @property
    def is_sqlite(self):
        return self.database_url.startswith("sqlite")

    def sqlite_path(self):
        return Path(self.database_url.split(":///", 1)[1]) if self.is_sqlite else None


@lru_cache
def get_settings():
    return Settings().check()
