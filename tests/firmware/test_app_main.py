"""firmware/main.py on an emulated hub (virtual time): whatever the app lets out is
logged to crash.log and the hub resets after a pause, never sitting dead."""

from emulator.supervisor import Hub, provision

SOFT_RESET_EXIT = 100 + 5


def test_unprovisioned_hub_logs_and_resets(tmp_path):
    hub = Hub(provision(tmp_path / "hub"))  # the app, but no identity.cbor
    hub.start()
    assert hub.wait(30) == SOFT_RESET_EXIT, hub.console()
    log = (hub.dir / "flash" / "crash.log").read_text()
    assert "IdentityError" in log and "not provisioned" in log


def test_crash_log_stays_small(tmp_path):
    hub = Hub(provision(tmp_path / "hub"))
    crash = hub.dir / "flash" / "crash.log"
    crash.write_text("x" * 5000)  # older crashes, past the cap
    hub.start()
    assert hub.wait(30) == SOFT_RESET_EXIT, hub.console()
    assert 0 < crash.stat().st_size < 4096 and "IdentityError" in crash.read_text()
