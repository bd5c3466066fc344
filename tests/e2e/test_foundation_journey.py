"""A manager's first steps in a real browser, in French and in Arabic."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.helpers import pass_second_factor
from tests.factories import PASSWORD, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def manager():
    return ManagerFactory(username="AB123456", cin="AB123456", full_name="Karim El Idrissi")


def login(page, base, username, password=PASSWORD):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_manager_logs_in_and_creates_a_sub_account(browser, live_server, manager, locale, shot):
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    arabic = locale.startswith("ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if arabic else "ltr")
    shot(page, f"login-{locale}")

    login(page, live_server.url, "AB123456")
    pass_second_factor(page, "AB123456")
    expect(page.get_by_test_id("identity")).to_contain_text("Karim El Idrissi")
    expect(page.get_by_test_id("identity")).to_contain_text("طنجة" if arabic else "Tanger")
    page.click("a[href='/team/']")
    page.click("a[href='/team/new/']")
    page.fill("#id_full_name", "Salma Bennani")
    page.fill("#id_cin", "ab654321")
    page.fill("#id_email", "salma@tanger.ma")
    page.check("#id_can_prepare_dossiers")
    page.click("main button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("salma@tanger.ma")
    expect(page.get_by_test_id("team-table")).to_contain_text("AB654321")
    shot(page, f"team-{locale}")
    assert User.objects.get(cin="AB654321").can_prepare_dossiers
    context.close()


def test_language_switch_is_remembered(browser, live_server, manager):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.click("button[name=language][value=ar]")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.goto(f"{live_server.url}/login/")  # a new visit keeps the choice, despite the browser's French
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_have_text(re.compile("e-retraite"))
    context.close()


def test_bad_password_then_lockout_message(browser, live_server, manager, settings):
    page = browser.new_page(locale="fr-FR")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(page, live_server.url, "AB123456", "wrong-password")
    expect(page.get_by_test_id("locked")).to_be_visible()
    page.close()
