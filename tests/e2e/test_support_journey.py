"""Help and support in a real browser, in French and Arabic: the help page logged out (the CMR's line
and address left to right inside Arabic text), then a manager writes from the page he was on, the CMR
answers, and he reads the answer."""

import pytest
from playwright.sync_api import expect

from support import services
from support.models import SupportRequest
from tests.e2e.helpers import login, off_loop
from tests.factories import CmrAgentFactory, ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_help_page_then_a_question_and_its_answer(browser, live_server, locale, shot):
    ManagerFactory(username="AB123456", cin="AB123456", full_name="Karim El Idrissi")
    cmr = CmrAgentFactory(full_name="Nadia Support")
    arabic = locale.startswith("ar")
    context = browser.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_test_id("help-link").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if arabic else "ltr")
    phone = page.get_by_test_id("support-phone")
    expect(phone).to_have_text("05 37 567 568")
    # left to right even inside Arabic text: the digits' groups in their written order
    assert phone.evaluate("e => getComputedStyle(e.closest('bdi')).direction") == "ltr"
    shot(page, f"support-help-{locale}")
    page.close()

    page = login(context, live_server.url, "AB123456")
    page.goto(f"{live_server.url}/dossiers/")
    page.get_by_test_id("help-link").click()
    page.get_by_test_id("ask-link").click()
    expect(page.get_by_test_id("from-page")).to_contain_text("/dossiers/")
    page.fill("#id_subject", "Signature refusée" if not arabic else "رفض التوقيع")
    page.fill("#id_message", "Le document est refusé." if not arabic else "تم رفض الوثيقة الموقعة.")
    shot(page, f"support-ask-{locale}")
    page.click("form[data-testid=ask-form] button[type=submit]")
    expect(page.get_by_test_id("request-status")).to_have_attribute("data-status", "open")
    item = off_loop(lambda: SupportRequest.objects.get())
    assert item.page == "/dossiers/"
    off_loop(lambda: services.answer_request(cmr, item.pk, answer="Installez d'abord le pilote du token."
                                             if not arabic else "يرجى تثبيت برنامج تشغيل المفتاح أولا."))
    page.goto(f"{live_server.url}/help/requests/")
    expect(page.get_by_test_id("answer-preview")).to_be_visible()
    page.get_by_test_id("request-row").locator("a").click()
    expect(page.get_by_test_id("answer-text")).to_be_visible()
    shot(page, f"support-answered-{locale}")
    context.close()
