# What of the OTA chain a hub holds in its heap (run on MicroPython in an empty flash
# directory): the app alone loads none of it; a trial boot or a rollback report loads
# hub.ota and hub.ota_files only; an offer taken up loads the download,
# verification and installation modules, and the Ed25519 code only for a manifest to
# check. Prints OK.
import sys

from tests.mp.ota_world import FakeApp, FakeUplink, run_offer

CHAIN = ("hub.ota_fetch", "hub.ota_verify", "hub.ota_install", "protocol.block")


def loaded(names):
    return [n for n in names if n in sys.modules]


from hub import app  # noqa: E402, F401  (the app's module, no offer yet)

OTA = ("hub.ota", "hub.ota_files") + CHAIN
assert loaded(OTA) == [], loaded(OTA)

from hub import ota  # noqa: E402

u = ota.Updater(FakeApp(None))  # as on a trial boot: report, tick, confirm
assert loaded(CHAIN + ("protocol.cose",)) == [], loaded(CHAIN)

up = FakeUplink(b"", b"")
up.drop_after = 0  # the fleet does not answer: nothing to verify
u = ota.Updater(FakeApp(up))
run_offer(u, 2)
assert u.report[0] == "failed", u.report
assert loaded(CHAIN) == list(CHAIN), loaded(CHAIN)
assert "protocol.cose" not in sys.modules
print("OK")
