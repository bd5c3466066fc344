"""The second factor in a real browser, in French and in Arabic: a manager enrols his application at
his first login, comes back with a recovery code, then with his application's code and trusts the
browser, and is not asked again there."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import off_loop
from tests.factories import PASSWORD, ManagerFactory
from tests.otp import code_for, code_from_secret, enrolled

pytestmark = pytest.mark.django_db(transaction=True)


def password_step(page, base):
    page.goto(f"{base}/login/")
    page.fill("#id_username", "AB123456")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


def log_out(page):
    page.click("header form[action='/logout/'] button")


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_enrol_recover_and_trust(browser, live_server, locale, shot):
    manager = ManagerFactory(username="AB123456", cin="AB123456", full_name="Karim El Idrissi")
    arabic = locale.startswith("ar")
    context = browser.new_context(locale=locale)
    page = context.new_page()
    base = live_server.url

    # first login: the password leads to the enrolment, and nowhere else
    password_step(page, base)
    expect(page.get_by_test_id("setup-title")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if arabic else "ltr")
    expect(page.get_by_test_id("qr").locator("svg")).to_be_visible()
    shot(page, f"second-factor-setup-{locale}")
    page.goto(f"{base}/dossiers/")
    expect(page.get_by_test_id("setup-title")).to_be_visible()
    page.fill("#id_code", "000000")
    page.click("main button[type=submit]")
    expect(page.locator("#code-errors")).to_contain_text("التطبيق" if arabic else "application")
    page.fill("#id_code", code_from_secret(page.get_by_test_id("secret").inner_text()))
    page.click("main button[type=submit]")
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    shot(page, f"recovery-codes-{locale}")
    page.get_by_test_id("codes-done").click()
    expect(page.get_by_test_id("identity")).to_contain_text("Karim El Idrissi")
    log_out(page)

    # the phone is not at hand: a recovery code, once
    password_step(page, base)
    expect(page.get_by_test_id("verify-title")).to_be_visible()
    shot(page, f"second-factor-verify-{locale}")
    page.fill("#id_code", codes[0])
    page.click("main button[type=submit]")
    expect(page.get_by_role("alert").first).to_contain_text("9")
    expect(page.get_by_test_id("identity")).to_be_visible()
    log_out(page)

    # the application's code, and this browser trusted
    password_step(page, base)
    page.fill("#id_code", off_loop(lambda: code_for(enrolled(manager))))
    page.check("#id_trust")
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("identity")).to_be_visible()
    page.get_by_test_id("security-link").click()
    expect(page.get_by_test_id("trusted-browsers")).to_be_visible()
    shot(page, f"security-{locale}")
    log_out(page)
    password_step(page, base)
    expect(page.get_by_test_id("identity")).to_contain_text("Karim El Idrissi")  # not asked again
    context.close()
