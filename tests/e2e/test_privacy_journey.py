"""The privacy officer in a real browser, in Arabic and French: a manager reads an affiliate's page;
the officer finds it in the trail by the person's number and opens his report."""

import pytest
from playwright.sync_api import expect

from tests.affiliates.factories import AffiliateFactory
from tests.e2e.helpers import login
from tests.factories import DgctAdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("locale", ["ar-MA", "fr-FR"])
def test_the_officer_finds_who_saw_a_record(browser, live_server, locale, shot):
    ManagerFactory(username="AB123456", cin="AB123456", full_name="Karim El Idrissi")
    DgctAdminFactory(username="dpo", full_name="Nadia Alaoui", is_privacy_officer=True)
    person = AffiliateFactory()
    manager = login(browser.new_context(locale=locale), live_server.url, "AB123456")
    manager.goto(f"{live_server.url}/affiliates/{person.pk}/")
    manager.context.close()

    page = login(browser.new_context(locale=locale), live_server.url, "dpo")
    page.get_by_role("link", name="المعطيات الشخصية" if locale.startswith("ar") else "Données personnelles").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale.startswith("ar") else "ltr")
    page.fill("#id_person", person.affiliation_number)
    page.check("#id_reads_only")
    page.locator("[data-testid=trail-filters] button[type=submit]").click()
    expect(page.get_by_test_id("trail")).to_contain_text("Karim El Idrissi")
    expect(page.locator('[data-testid=trail] [data-action="affiliate.consulted"]').first).to_be_visible()
    shot(page, f"privacy-trail-{locale}")
    page.get_by_test_id("person-report").click()
    expect(page.get_by_test_id("person")).to_contain_text(person.affiliation_number)
    expect(page.get_by_test_id("trail")).to_contain_text("Karim El Idrissi")
    shot(page, f"privacy-person-{locale}")
    page.context.close()
