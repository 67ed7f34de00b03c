"""The update pages in a real Chromium against the real server: a technician uploads a
signed release through the form, creates a campaign for one condominium and starts it,
sees its first wave and the hub in it, then pauses it with a reason; a caregiver whose
resident is served by that hub reads that monitoring will pause, and the hub's refusal
shows in its row in Italian; refused uploads and campaign forms say fleet.ota's reason
in Italian. Screenshots go to var/screenshots/."""

from playwright.sync_api import expect
from sqlmodel import select

from fleet.db import session
from fleet.models import Hub, utcnow
from fleet.ota import deployments
from tests.browser.test_pages import DESKTOP, PHONE, fits_the_screen, log_in
from tests.fleet import ota_support


def test_technician_creates_a_campaign_and_pauses_it(server, chromium, shots, tmp_path):
    key = ota_support.new_key()
    # The fleet's trusted release keys, as FLEET_RELEASE_KEYS would name them.
    server.settings.release_keys = ota_support.keys_file(tmp_path, key)
    manifest, bundle = ota_support.build(key, 4, version="0.4.0", hw="micropython-esp32")
    (tmp_path / "manifest.cose").write_bytes(manifest)
    (tmp_path / "bundle.bin").write_bytes(bundle)

    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, server, "tech")
    page.get_by_role("link", name="Aggiornamenti").click()
    expect(page.locator("h1")).to_have_text("Aggiornamenti")
    page.set_input_files("input[name=manifest]", str(tmp_path / "manifest.cose"))
    page.set_input_files("input[name=bundle]", str(tmp_path / "bundle.bin"))
    page.get_by_role("button", name="Carica").click()
    row = page.locator("#releases tbody tr").first
    expect(row).to_contain_text("0.4.0")
    expect(row).to_contain_text("micropython-esp32")
    page.screenshot(path=shots / "ota-home.png", full_page=True)

    row.get_by_role("link", name="Nuova campagna").click()
    expect(page.locator("h1")).to_have_text("Nuova campagna")
    page.fill("#name", "Primavera")
    page.select_option("#condos", label="Via Padova 12")
    expect(page.locator("#waves")).to_have_value("1, 10, 50, 100")
    page.check("input[name=start]")
    page.screenshot(path=shots / "ota-new-campaign.png", full_page=True)
    page.get_by_role("button", name="Crea la campagna").click()

    expect(page.locator("h1")).to_have_text("Campagna Primavera")
    campaign_url = page.url
    expect(page.locator("#campaign-state")).to_have_text("in corso")
    expect(page.locator("#waves tr[data-wave='1']")).to_contain_text(
        "0 aggiornati, 0 falliti, 1 in corso su 1"
    )
    expect(page.locator("#deployments tr[data-hub='hub-a']")).to_contain_text("in coda")
    expect(page.locator("#deployments tr[data-hub='hub-b']")).to_have_count(0)  # condo B
    page.screenshot(path=shots / "ota-campaign-running.png", full_page=True)

    page.fill("input[name=reason]", "temporale stanotte")
    page.get_by_role("button", name="Metti in pausa").click()
    expect(page.locator("#campaign-state")).to_have_text("in pausa")
    expect(page.locator("#paused-reason")).to_have_text(
        "Messa in pausa da Tech: temporale stanotte"
    )
    expect(page.get_by_role("button", name="Riprendi")).to_be_visible()
    page.screenshot(path=shots / "ota-campaign-paused.png", full_page=True)
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    page.screenshot(path=shots / "ota-campaign-paused-phone.png", full_page=True)
    page.close()

    # Paused, the update is still pending for hub-a, which serves Anna's flat.
    care = chromium.new_page(viewport=PHONE)
    log_in(care, server, "care")
    card = care.locator(f"[data-resident='{server.world.anna}']")
    expect(card.locator(".ota-notice")).to_have_text(
        "Aggiornamento del sistema: il monitoraggio di Anna si fermerà per circa 60 secondi"
    )
    assert fits_the_screen(care)
    care.screenshot(path=shots / "caregiver-update-notice-phone.png", full_page=True)
    care.close()

    # hub-a refuses the release (heartbeat key 9): its row says why, in Italian.
    with session(server.engine) as db:
        hub = db.exec(select(Hub).where(Hub.hub_id == "hub-a")).one()
        deployments.report(db, hub, ["refused", 4, "space"], utcnow())
        db.commit()
    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, server, "tech")
    page.goto(campaign_url)
    row = page.locator("#deployments tr[data-hub='hub-a']")
    expect(row).to_contain_text("spazio insufficiente")  # the result
    expect(row).to_contain_text("rifiutato dall'hub: spazio insufficiente nella memoria")
    page.close()


def test_refusals_are_said_in_italian(server, chromium, shots, tmp_path):
    key = ota_support.new_key()
    server.settings.release_keys = ota_support.keys_file(tmp_path, key)
    manifest, bundle = ota_support.build(key, 4, version="0.4.0", hw="micropython-esp32")
    files = {
        "foreign.cose": ota_support.build(ota_support.new_key(), 4)[0],
        "manifest.cose": manifest,
        "bundle.bin": bundle,
        "tampered.bin": bundle[:-1] + bytes([bundle[-1] ^ 1]),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)

    page = chromium.new_page(viewport=DESKTOP)
    log_in(page, server, "tech")
    error = page.locator("#ota-error")
    for m, b, said in (
        ("foreign.cose", "bundle.bin", "Il manifesto è firmato con una chiave non fidata."),
        (
            "manifest.cose",
            "tampered.bin",
            "Il pacchetto non corrisponde al manifesto (SHA-256 diverso).",
        ),
        ("manifest.cose", "bundle.bin", None),  # stored
        ("manifest.cose", "bundle.bin", "Una versione con numero di sequenza 4 è già caricata."),
    ):
        page.goto(server.url + "/ota")
        page.set_input_files("input[name=manifest]", str(tmp_path / m))
        page.set_input_files("input[name=bundle]", str(tmp_path / b))
        page.get_by_role("button", name="Carica").click()
        if said is None:
            expect(page.locator("#releases tbody tr").first).to_contain_text("0.4.0")
        else:
            expect(error).to_have_text(said)
    page.screenshot(path=shots / "ota-refused-upload.png", full_page=True)

    page.goto(server.url + "/ota/campaigns/new")
    for waves, said in (
        ("50, 10, 100", "Ogni ondata deve essere più grande della precedente."),
        ("1, dieci, 100", "Le ondate sono percentuali intere, per esempio 1, 10, 50, 100."),
    ):
        page.fill("#waves", waves)
        page.get_by_role("button", name="Crea la campagna").click()
        expect(error).to_have_text(said)
        expect(page.locator("#waves")).to_have_value(waves)  # kept to be corrected
    page.screenshot(path=shots / "ota-refused-campaign.png", full_page=True)
    page.close()
