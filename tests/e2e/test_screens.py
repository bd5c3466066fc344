"""The main pages in Arabic and French, at a desk's width (1280) and a phone's (390), as each role sees them.

Screenshots land in /tmp/eretraite-screenshots (not committed) to be looked at. What the test asserts is
what a reader would notice at any width: the page is right to left in Arabic, nothing overflows the
screen sideways, and each identifier stays on one line beside its label.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import login
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"desk": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def world(pki_settings, signed_pdf):  # noqa: F811
    from tests.world import build_world

    return build_world(signed_pdf)


def pages_of(world, role):
    person, draft = world["person"], world["draft"]
    if role == "cmr_agent":
        return {"queue": "/dossiers/queue/", "dossier": f"/dossiers/{world['at_cmr_under_review'].pk}/",
                "transmissions": "/cmr/transmissions/", "help": "/help/"}
    return {"home": "/", "search": "/affiliates/?q=Bennani+Fatima", "situation": f"/affiliates/{person.pk}/",
            "dossier": f"/dossiers/{draft.pk}/", "portfolio": "/dossiers/", "help": "/help/"}


@pytest.mark.parametrize("role", ["manager", "cmr_agent"])
@pytest.mark.parametrize("locale", ["ar-MA", "fr-FR"])
def test_main_pages_read_well_at_every_width(browser, live_server, world, role, locale, shot):
    username = world[role].username
    for width_name, (width, height) in WIDTHS.items():
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = login(context, live_server.url, username)  # the navigation folds on a phone: log in wide
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages_of(world, role).items():
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale.startswith("ar") else "ltr")
            # Nothing wider than the screen: no sideways scrolling on a phone.
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                             && !e.closest('.table-responsive'))
                .slice(-3).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 40))""")
            assert overflow <= 1, (path, width, overflow, wide)
            # Identifiers isolated from the sentence and kept whole on one line.
            broken = page.evaluate("""() => [...document.querySelectorAll('bdi[dir=ltr], span.ltr')]
                .filter(e => e.offsetParent && e.textContent.trim() && e.getClientRects().length > 1)
                .map(e => e.textContent.trim())""")
            assert not broken, (path, width, broken)
            shot(page, f"screen-{role}-{name}-{locale}-{width_name}")
        context.close()
