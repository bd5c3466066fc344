"""The collectivity sees, in its own language, that its certified dossier has not reached the CMR:
the back office is down; the dossier page and the portfolio say it plainly, and when it will be
tried again; once the back office is back, the sweep delivers it and the page says so."""

import re

import pytest
from playwright.sync_api import expect

from cmr import sender
from cmr.models import Transmission
from tests.cmr_mock import cmr_mock_factory  # noqa: F401
from tests.dossiers.conftest import affiliate, officers  # noqa: F401
from tests.e2e.helpers import login, off_loop
from tests.e2e.test_cmr_stage_actions import transmitted_dossier
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {"fr": ("CMR injoignable, prochain essai à", "remis à la CMR le"),
         "ar": ("تعذّر الوصول إلى الصندوق، المحاولة التالية", "سُلّم إلى الصندوق في")}


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_the_collectivity_sees_its_dossier_waiting_for_the_cmr(browser, live_server, officers, affiliate,  # noqa: F811
                                                               signed_pdf, cmr_mock_factory, settings,  # noqa: F811
                                                               shot, locale):
    lang = locale[:2]
    unreachable, delivered = WORDS[lang]
    mock = cmr_mock_factory()
    mock.set_faults(down=True)
    settings.CMR_BASE_URL = mock.base_url
    dossier = off_loop(transmitted_dossier, officers, affiliate, signed_pdf)
    assert dossier.state == "certified"
    page = login(browser.new_context(locale=locale), live_server.url, "CD789012")
    page.goto(f"{live_server.url}/dossiers/")
    expect(page.get_by_test_id("sending-trouble")).to_contain_text(unreachable)
    page.goto(f"{live_server.url}/dossiers/{dossier.pk}/")
    status = page.get_by_test_id("delivery-status")
    expect(status).to_contain_text(unreachable)
    expect(status).to_have_attribute("data-status", "pending")
    shot(page, f"delivery-unreachable-{lang}")

    mock.set_faults(down=False)
    Transmission.objects.update(next_attempt_at=dossier.state_changed_at)
    off_loop(sender.send_transmission, Transmission.objects.get().pk)
    page.reload()
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", re.compile("transmitted|received"))
    expect(status).to_contain_text(delivered)
    page.context.close()
