"""API tokens in a real browser, in French and in Arabic: a manager makes a read-only token for his
HR software from his security page, copies the key shown once, the software reads the API with it
(and may not write), and the manager revokes it."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import login, off_loop
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def call(base, key, method="GET", path="/api/v1/dossiers/", body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": f"Token {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_make_use_and_revoke_a_token(browser, live_server, locale, shot):
    ManagerFactory(username="AB123456", cin="AB123456", full_name="Karim El Idrissi")
    context = browser.new_context(locale=locale)
    page = login(context, live_server.url, "AB123456")
    page.get_by_test_id("security-link").click()
    page.get_by_test_id("api-tokens-link").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale.startswith("ar") else "ltr")
    page.fill("#id_name", "SIRH de la commune")
    page.get_by_test_id("make-token").click()
    key = page.get_by_test_id("key").inner_text().strip()
    assert key.startswith("ert_")
    expect(page.get_by_test_id("tokens")).to_contain_text("SIRH de la commune")
    shot(page, f"api-tokens-{locale}")

    assert off_loop(call, live_server.url, key) == 200
    assert off_loop(call, live_server.url, key, "POST", body={"affiliate": 1, "kind": "age_limit"}) == 403

    page.reload()
    expect(page.get_by_test_id("new-key")).to_have_count(0)  # shown once
    page.get_by_test_id("tokens").locator("button[type=submit]").click()
    expect(page.get_by_test_id("tokens")).to_contain_text("révoqué" if locale.startswith("fr") else "ملغى")
    assert off_loop(call, live_server.url, key) == 401
    context.close()
