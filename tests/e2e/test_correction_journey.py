"""A correction request in a real browser, in Arabic and in French: the manager chooses a missing
service period in the list, picks its dates in the date pickers and its kind in a list, attaches the
signed PDF; refused for its dates, the form keeps the PDF, and the corrected dates go without choosing
it again. The request is then in his own list, reached from the navigation bar."""

from datetime import date

import pytest
from playwright.sync_api import expect

from affiliates.models import CorrectionRequest
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.e2e.helpers import login, off_loop
from tests.factories import ManagerFactory
from tests.pki import pki, pki_settings, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("locale", ["ar-MA", "fr-FR"])
def test_an_officer_proposes_a_missing_period(browser, live_server, pki_settings, signed_pdf,  # noqa: F811
                                              tmp_path, shot, locale):
    arabic, tag = locale.startswith("ar"), locale[:2]
    ManagerFactory(username="AB123456", cin="AB123456")
    person = with_career(AffiliateFactory(), (date(2000, 1, 1), date(2009, 12, 31), "effective"),
                         (date(2012, 1, 1), None, "effective"), family=False)
    proof = tmp_path / "arrete-detachement.pdf"
    proof.write_bytes(off_loop(signed_pdf, cin="AB123456", text=f"Arrêté de détachement {locale}"))

    page = login(browser.new_context(locale=locale), live_server.url, "AB123456")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if arabic else "ltr")
    page.goto(f"{live_server.url}/affiliates/{person.pk}/corrections/new/")
    with page.expect_navigation():  # the list chooses what the form is about (static/js/autosubmit.js)
        page.select_option("#id_target", "service_period:new")
    form = page.get_by_test_id("correction-form")
    expect(form.locator("input[type=date]")).to_have_count(2)
    # Dates with the browser's picker (its value is ISO whatever the display), the kind from a list.
    page.fill("#id_start", "2010-01-01")
    page.fill("#id_end", "2009-06-30")  # before the start: refused
    page.select_option("#id_kind", "secondment")
    page.fill("#id_reason", "Arrêté de détachement n° 45/2010" if not arabic else "قرار الإلحاق رقم 45/2010")
    page.set_input_files("#id_document", str(proof))
    page.get_by_test_id("send-correction").click()
    expect(page.get_by_test_id("error-end")).to_be_visible()
    expect(page.get_by_test_id("kept-document")).to_contain_text("arrete-detachement.pdf")
    expect(page.locator("#id_kind")).to_have_value("secondment")
    shot(page, f"correction-refused-{tag}")
    assert not CorrectionRequest.objects.exists()

    # The end corrected; the PDF is not chosen again.
    page.fill("#id_end", "2011-12-31")
    page.get_by_test_id("send-correction").click()
    expect(page.get_by_test_id("correction-status")).to_be_visible()
    c = CorrectionRequest.objects.get()
    assert (c.field, c.document_name, c.record_id) == ("service_period", "arrete-detachement.pdf", None)
    expect(page.get_by_test_id("proposed-value")).to_contain_text("2011")
    shot(page, f"correction-sent-{tag}")

    # His own requests, from the navigation bar.
    page.locator("#mainnav a[href='/affiliates/corrections/']").click()
    expect(page.get_by_test_id("correction-row")).to_have_count(1)
    shot(page, f"correction-list-{tag}")
    page.context.close()
