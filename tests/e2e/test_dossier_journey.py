"""A retirement dossier in a real browser, in French and in Arabic: an agent opens it from the
situation page, uploads signed PDFs, submits; the manager certifies; the CMR's stage shows."""

import pytest
from playwright.sync_api import expect

from dossiers import services
from dossiers.models import Dossier
from tests.dossiers.conftest import affiliate, officers  # noqa: F401
from tests.e2e.helpers import BASIC, login, off_loop
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_retirement_dossier_journey(browser, live_server, officers, affiliate, signed_pdf,  # noqa: F811
                                    tmp_path, shot, locale):
    base = live_server.url
    arabic = locale.startswith("ar")
    tag = locale[:2]

    # The agent opens the dossier from the affiliate's situation page.
    agent_ctx = browser.new_context(locale=locale)
    page = login(agent_ctx, base, "CD789012")
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if arabic else "ltr")
    page.goto(f"{base}/affiliates/{affiliate.pk}/")
    page.select_option("#open-kind", "age_limit")
    page.get_by_test_id("open-submit").click()
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", "draft")
    dossier = Dossier.objects.get()

    # A refused file shows why and is not kept.
    bad = tmp_path / "unsigned.pdf"
    bad.write_bytes(off_loop(sample_pdf, "pas signé"))
    line = page.get_by_test_id("line-rib")
    line.locator("input[type=file]").set_input_files(str(bad))
    line.locator("button[type=submit]").first.click()
    expect(line.get_by_test_id("refused")).to_be_visible()
    shot(page, f"dossier-refused-{tag}")
    assert not dossier.documents.exists()

    # Signed PDFs, one per checklist line.
    for code in BASIC:
        path = tmp_path / f"{code}.pdf"
        path.write_bytes(off_loop(signed_pdf, cin="CD789012", text=f"{code} {locale}"))
        line = page.get_by_test_id(f"line-{code}")
        line.locator("input[type=file]").set_input_files(str(path))
        line.locator("button[type=submit]").first.click()
        expect(page.get_by_test_id(f"line-{code}").get_by_test_id("document")).to_have_count(1)
    expect(page.get_by_test_id("document")).to_have_count(len(BASIC))
    # a second RIB replaces the first: the timeline will say "2 versions", on one line
    path = tmp_path / "rib-2.pdf"
    path.write_bytes(off_loop(signed_pdf, cin="CD789012", text=f"rib again {locale}"))
    line = page.get_by_test_id("line-rib")
    line.locator("input[type=file]").set_input_files(str(path))
    line.locator("button[type=submit]").first.click()
    expect(page.get_by_test_id("line-rib").get_by_test_id("document")).to_contain_text("rib-2.pdf")
    shot(page, f"dossier-filled-{tag}")
    page.get_by_test_id("action-submit").click()
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", "awaiting_certification")
    expect(page.get_by_test_id("action-certify")).to_have_count(0)  # the agent may not certify
    # the next-step panel names who may: the manager
    expect(page.get_by_test_id("step-certify")).to_have_attribute("data-allowed", "0")
    expect(page.get_by_test_id("step-certify").get_by_test_id("step-who")).to_contain_text("Amina El Idrissi")
    shot(page, f"dossier-next-step-{tag}")
    agent_ctx.close()

    # The manager certifies; the transmittal slip is offered.
    manager_ctx = browser.new_context(locale=locale)
    page = login(manager_ctx, base, "AB123456")
    page.goto(f"{base}/dossiers/")
    page.get_by_test_id("dossier-row").first.locator("a").first.click()
    page.get_by_test_id("action-certify").click()
    # certifying engages the officer: a page says what it sends and that it cannot be withdrawn, then he confirms
    confirmation = page.get_by_test_id("confirmation")
    expect(confirmation).to_have_attribute("data-act", "dossier.certify")
    name = affiliate.full_name_ar if arabic else affiliate.full_name_fr
    expect(confirmation.locator("h1")).to_have_text(f"هل تريدون التصديق على ملف {name}؟" if arabic
                                                    else f"Certifier le dossier de {name} ?")
    expect(confirmation.get_by_test_id("confirmation-lines").locator("li")).to_have_count(len(BASIC))
    shot(page, f"dossier-confirm-certify-{tag}")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", "certified")
    expect(page.get_by_role("alert").filter(has_text="تمت المصادقة على الملف ووُضع في قائمة الإرسال" if arabic
                                            else "Le dossier a été certifié et mis en file d'envoi vers la CMR."
                                            )).to_be_visible()
    expect(page.get_by_test_id("slip")).to_be_visible()
    shot(page, f"dossier-certified-{tag}")

    # The CMR receives it and starts the review: the stages show on the dossier page.
    services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="received", event_id=f"e1-{tag}",
                             cmr_reference="CMR-2026-0042")
    services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="under_review", event_id=f"e2-{tag}")
    page.reload()
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", "under_review")
    expect(page.get_by_test_id("cmr-reference")).to_have_text("CMR-2026-0042")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.locator("[data-action=review]")).to_have_count(1)
    # newest first: the review on top, the opening at the bottom; the two RIBs on one line, each under it
    lines = timeline.locator(":scope > li")
    expect(lines.first).to_have_attribute("data-action", "review")
    expect(lines.last).to_have_attribute("data-action", "opened")
    expect(lines).to_have_count(4 + 1 + len(BASIC))  # review, receive, certify, submit, 1 per item, opened
    versions = timeline.locator("[data-versions='2']")
    expect(versions).to_contain_text("حُمِّلت نسختان من «شهادة التعريف البنكي»" if arabic
                                     else "2 versions de « Attestation de RIB » déposées")
    versions.locator("summary").click()  # a <details>: no script
    expect(versions.locator("[data-version-action]")).to_have_count(2)
    shot(page, f"dossier-cmr-{tag}")
    page.goto(f"{base}/")
    expect(page.get_by_test_id("home-cmr-events")).to_contain_text(
        affiliate.full_name_ar if arabic else affiliate.full_name_fr)
    shot(page, f"home-{tag}")
    manager_ctx.close()
