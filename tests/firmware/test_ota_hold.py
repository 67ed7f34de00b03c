"""hub/ota.py installs only on the fleet's go: an offer downloads and verifies, and only a
later offer (the fleet offers nothing while installing would be unsafe) installs — and
not while the hub's own outbox holds an emergency. A held download waits on flash."""

import pytest

from tests.firmware.test_ota import Reset, build, flash, hub, key, small_app  # noqa: F401
from tests.mp.ota_world import one_offer


def test_an_offer_downloads_and_verifies_but_installs_nothing(flash, key, small_app):  # noqa: F811
    cose, bundle, _ = build(key, small_app)
    app, up = hub(cose, bundle)
    one_offer(up, 2)
    assert up.report == ["downloaded", 2, "0.2.0"]
    assert not (flash / "ota.state").exists() and not (flash / "app0").exists()
    assert (flash / "ota.bin").read_bytes() == bundle and (flash / "ota.m").read_bytes() == cose
    # No further offer (an alert opened, say): nothing happens, however long it waits.
    assert up.task is None
    # The go: the next heartbeat reply offers it again; nothing is fetched again.
    gets = len(app.uplink.gets)
    with pytest.raises(Reset):
        one_offer(up, 2)
    assert len(app.uplink.gets) == gets
    assert (flash / "ota.state").read_text() == "app0 . 3"
    assert up.report == ["updating", 2, "0.2.0"]


def test_an_emergency_in_the_outbox_holds_the_install_until_delivered(flash, key, small_app):  # noqa: F811
    app, up = hub(*build(key, small_app)[:2])
    one_offer(up, 2)
    app.box.urgent = 1  # a panic press waits for the fleet's acknowledgement
    one_offer(up, 2)
    one_offer(up, 2)
    assert not (flash / "ota.state").exists()
    assert up.report == ["downloaded", 2, "0.2.0"]
    assert any("held, an emergency is queued" in line for line in app.lines)
    app.box.urgent = 0  # delivered
    with pytest.raises(Reset):
        one_offer(up, 2)
    assert (flash / "ota.state").read_text() == "app0 . 3"


def test_a_held_download_survives_a_reboot_and_is_verified_again(flash, key, small_app):  # noqa: F811
    cose, bundle, _ = build(key, small_app)
    app, up = hub(cose, bundle)
    one_offer(up, 2)
    # Power cut while held; the new boot takes the next offer up from flash.
    app, up = hub(cose, bundle)
    one_offer(up, 2)
    assert app.uplink.gets == [] and up.report == ["downloaded", 2, "0.2.0"]
    assert not (flash / "ota.state").exists()  # that offer was the one it verified after
    with pytest.raises(Reset):
        one_offer(up, 2)
    assert (flash / "ota.state").read_text() == "app0 . 3"


def test_a_bundle_damaged_while_held_is_refused_at_the_go(flash, key, small_app):  # noqa: F811
    app, up = hub(*build(key, small_app)[:2])
    one_offer(up, 2)
    data = bytearray((flash / "ota.bin").read_bytes())
    data[-1] ^= 1
    (flash / "ota.bin").write_bytes(bytes(data))
    one_offer(up, 2)  # installing reads every file back against its digest
    assert up.report == ["refused", 2, "integrity"]
    assert not (flash / "ota.state").exists() and not (flash / "ota.bin").exists()


def test_a_newer_offer_replaces_a_held_download(flash, key, small_app):  # noqa: F811
    app, up = hub(*build(key, small_app)[:2])
    one_offer(up, 2)
    cose3, bundle3, _ = build(key, small_app, seq=3, version="0.3.0")
    app, up3 = hub(cose3, bundle3)
    up3.ready = up.ready  # as if seq 2 had been verified in this boot
    one_offer(up3, 3)
    assert up3.report == ["downloaded", 3, "0.3.0"]
    assert (flash / "ota.bin").read_bytes() == bundle3
    with pytest.raises(Reset):
        one_offer(up3, 3)
    assert (flash / "ota.seq").read_text() == "3"
