"""An invitation in a real Chromium: the admin creates a user with no password and reads
the link off the page; the new user opens it on a phone, chooses a password and lands
logged in on their page. Screenshots go to var/screenshots/."""

from playwright.sync_api import expect

from tests.browser.test_pages import DESKTOP, PHONE, fits_the_screen, log_in


def test_a_new_user_sets_a_password_from_the_invitation(server, chromium, shots):
    admin = chromium.new_page(viewport=DESKTOP)
    log_in(admin, server, "admin")
    form = admin.locator("#new-user")
    form.locator("input[name=name]").fill("Giulia Neri")
    form.locator("input[name=email]").fill("giulia@example.org")
    form.locator("select[name=role]").select_option("caregiver")
    form.get_by_role("button", name="Crea l'utente").click()
    expect(admin.locator("#invitation")).to_contain_text("Link d'invito per Giulia Neri")
    link = admin.locator("#invitation-link").input_value()
    assert link.startswith(server.url + "/invite/")
    expect(admin.locator("#users")).to_contain_text("invito in attesa")
    admin.screenshot(path=shots / "admin-invitation.png", full_page=True)
    admin.close()

    phone = chromium.new_page(viewport=PHONE)
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("Scelga la sua password")
    assert fits_the_screen(phone)
    phone.fill("#password", "una password tutta nuova")
    phone.fill("#again", "una password tutta nuova")
    phone.screenshot(path=shots / "invitation-phone.png", full_page=True)
    phone.get_by_role("button", name="Salva e accedi").click()
    expect(phone).to_have_url(server.url + "/care")
    expect(phone.locator(".me")).to_contain_text("Giulia Neri")
    phone.goto(link)  # once only
    expect(phone.locator("h1")).to_have_text("Link non valido")
    phone.close()
