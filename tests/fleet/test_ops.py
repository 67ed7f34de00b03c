"""Operations: production refuses the demo key, logs are JSON lines without secrets,
/healthz tells a reachable database from an unreachable one, /metrics is Prometheus
text, demo data is seeded once with fresh passwords."""

import io
import json
import logging

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from fleet import demo
from fleet.db import make_engine, session
from fleet.logging import setup
from fleet.models import ROLES, CareCircleMember, Condominium, Resident, User
from fleet.settings import DEMO_SECRET_KEY, Settings


def test_production_refuses_the_demo_or_a_short_key():
    with pytest.raises(RuntimeError, match="FLEET_SECRET_KEY"):
        Settings(environment="production").check()
    with pytest.raises(RuntimeError):
        Settings(environment="production", secret_key="short").check()
    assert Settings(environment="production", secret_key="p" * 32).check()
    assert Settings(secret_key=DEMO_SECRET_KEY).check()  # development: fine


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup(Settings(log_level="debug"), stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers[:], level = saved
    root.setLevel(level)


def test_logs_are_json_lines_without_secrets(log_lines):
    log = logging.getLogger("fleet.test")
    log.info(
        "hub %s provisioned",
        "hub-1",
        extra={"hub": "hub-1", "master_secret": "s3cr3t", "claim_code": "ABCD", "sid": b"\x01\x02"},
    )
    try:
        raise ValueError("payload 0xdeadbeef")
    except ValueError:
        log.exception("bad datagram")
    first, second = log_lines()
    assert first["msg"] == "hub hub-1 provisioned" and first["level"] == "info"
    assert first["hub"] == "hub-1" and first["sid"] == "<2 bytes>"
    assert first["master_secret"] == first["claim_code"] == "[redacted]"
    assert second["error"] == "ValueError" and "deadbeef" not in json.dumps(second)


def ops_client(engine):
    from fleet.api.routes.ops import router

    app = FastAPI()
    app.include_router(router)
    app.state.engine = engine
    return TestClient(app)


def test_healthz_reports_the_database(engine):
    assert ops_client(engine).get("/healthz").json() == {"status": "ok", "database": "ok"}
    broken = make_engine("postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    resp = ops_client(broken).get("/healthz")
    assert resp.status_code == 503 and resp.json()["status"] == "error"


def test_metrics_are_prometheus_text(engine):
    from fleet import metrics

    resp = ops_client(engine).get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert resp.text == metrics.render()
    assert "# TYPE portineria_hubs_online gauge" in resp.text


def test_demo_seeds_once_with_fresh_passwords(engine):
    with session(engine) as db:
        first = demo.seed(db)
    with session(engine) as db:
        second = demo.seed(db)
        assert sorted(r for r, _, _ in first) == sorted(ROLES)
        assert len(db.exec(select(Condominium)).all()) == len(demo.PLACES)
        assert len(db.exec(select(Resident)).all()) == 5
        assert len(db.exec(select(CareCircleMember)).all()) == 2
        hasher = PasswordHasher()
        for (_, email, old), (_, _, new) in zip(first, second, strict=True):
            user = db.exec(select(User).where(User.email == email)).one()
            assert old != new and hasher.verify(user.password_hash, new)
