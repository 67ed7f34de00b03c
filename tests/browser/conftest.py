"""Real-browser fixtures: the fleet's web server (uvicorn in a thread, on a free port,
with the API tests' small world in a SQLite file) and Debian's Chromium driven by
Playwright. Screenshots go to var/screenshots/ (not committed)."""

import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright
from sqlmodel import select

from emulator.ports import free_port
from fleet.app import create_app
from fleet.db import make_engine, migrate, session
from fleet.models import Hub, Sensor
from tests.fleet.api_support import make_settings, seed

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


class Server:
    """The running server: its base URL, the seeded world and the database engine."""


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path}/fleet.db"
    migrate(url)
    port = free_port()
    settings = make_settings(url, public_url=f"http://127.0.0.1:{port}")
    engine = make_engine(url)
    world = seed(engine, settings)
    with session(engine) as db:
        # The reference hub's panic button beside the seeded motion sensor, in Anna's flat.
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        db.add(
            Sensor(hub_id=hub.id, key="panic", kind="panic", room="living", flat_id=world.flat_a)
        )
        db.commit()
    app = create_app(settings, engine)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    s = Server()
    s.url, s.world, s.engine, s.settings = f"http://127.0.0.1:{port}", world, engine, settings
    yield s
    uv.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    # Module scope, not session: Playwright's sync API keeps an event loop running until
    # it stops, and every asyncio test collected after this module would refuse to start.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
