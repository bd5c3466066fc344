"""The help page (issue 15, item 6): open to everyone, in French and Arabic, with the CMR's support line
and e-mail from circular D-6266 (set from the environment), a short guide per role, and the way to
write to the support from the page one was on; a "Help" link on every page."""

import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from accounts.permissions import navigation_for
from tests.factories import ProvincialOfficeFactory

pytestmark = pytest.mark.django_db


def ask_href(html):
    match = re.search(r'href="([^"]*)" data-testid="ask-link"', html)
    return match and match.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("language, title", [("fr", 'lang="fr"'), ("ar", 'dir="rtl"')])
def test_anyone_logged_out_reads_the_cmr_support_line_in_his_language(client, language, title):
    answer = client.get(reverse("support:help"), HTTP_ACCEPT_LANGUAGE=language)
    html = answer.content.decode()
    assert answer.status_code == 200 and title in html
    # the circular's line and address, kept left to right inside Arabic text, and clickable
    assert '<bdi dir="ltr"><a href="tel:0537567568" data-testid="support-phone">05 37 567 568</a></bdi>' in html
    assert ('<bdi dir="ltr"><a href="mailto:assistanceplateforme@cmr.gov.ma" data-testid="support-email">'
            "assistanceplateforme@cmr.gov.ma</a></bdi>") in html
    # a guide for each role, the circular's addresses in them left to right too
    assert set(re.findall(r'data-testid="guide" data-role="(\w+)"', html)) == set(User.Role.values)
    assert '<bdi dir="ltr"><a href="mailto:ariad@interieur.gov.ma">ariad@interieur.gov.ma</a></bdi>' in html
    assert 'href="https://www.baridesign.ma"' in html
    # logged out: no form, the way to log in
    assert 'data-testid="ask-link"' not in html and reverse("login") + "?next=" in html


def test_the_support_line_comes_from_the_settings(client, settings):
    settings.SUPPORT_PHONE = "+212 5 22 00 00 00"
    settings.SUPPORT_EMAIL = "aide@example.ma"
    html = client.get(reverse("support:help")).content.decode()
    assert 'href="tel:+212522000000"' in html and "+212 5 22 00 00 00" in html
    assert "mailto:aide@example.ma" in html and "assistanceplateforme" not in html


def test_the_settings_read_the_environment_with_the_circulars_values_as_defaults():
    code = "from django.conf import settings as s; print(s.SUPPORT_PHONE, '|', s.SUPPORT_EMAIL)"

    def run(env):
        result = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
                                cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
                                env={"PATH": "/usr/bin:/bin", **env})
        return result.stdout.strip()

    assert run({}) == "05 37 567 568 | assistanceplateforme@cmr.gov.ma"
    assert run({"SUPPORT_PHONE": "0522 11 22 33", "SUPPORT_EMAIL": "x@y.ma"}) == "0522 11 22 33 | x@y.ma"


def test_every_page_has_a_help_link_that_says_where_it_came_from(client, manager):
    login = client.get(reverse("login")).content.decode()
    assert 'href="/help/?from=/login/"' in login and 'data-testid="help-link"' in login
    assert 'href="/help/"' in login  # the navigation, logged out: the help page is for everyone
    client.force_login(manager)
    home = client.get(reverse("home")).content.decode()
    assert 'href="/help/?from=/"' in home
    not_found = client.get("/dossiers/999999/").content.decode()
    assert 'href="/help/?from=/dossiers/999999/"' in not_found


def test_the_navigation_table_gives_help_to_everyone_and_requests_to_those_who_answer(manager, cmr, dgct):
    anonymous = type("Anonymous", (), {"is_authenticated": False})()
    assert [key for _, _, key in navigation_for(anonymous)] == ["help"]
    for account, answers in ((manager, False), (ProvincialOfficeFactory(), False), (cmr, True), (dgct, True)):
        keys = {key for _, _, key in navigation_for(account)}
        assert "help" in keys and ("requests" in keys) == answers, account.role


def test_a_logged_in_reader_gets_his_own_guide_first_and_the_form_from_his_page(client, manager):
    client.force_login(manager)
    html = client.get(reverse("support:help"), {"from": "/dossiers/?state=draft"}).content.decode()
    roles = re.findall(r'data-testid="guide" data-role="(\w+)"', html)
    assert roles[0] == User.Role.MANAGER
    assert ask_href(html) == reverse("support:ask") + "?from=%2Fdossiers%2F"  # its path only, not its query
    # without ?from=, the page the browser came from (the Referer), if it is one of this site's
    html = client.get(reverse("support:help"), HTTP_REFERER="http://testserver/affiliates/").content.decode()
    assert ask_href(html) == reverse("support:ask") + "?from=%2Faffiliates%2F"


@pytest.mark.parametrize("origin", ["https://evil.example/dossiers/", "//evil.example/x", "javascript:alert(1)",
                                    "/\\evil.example", "/no/such/page/"])
def test_another_sites_address_is_never_carried(client, manager, origin):
    client.force_login(manager)
    for answer in (client.get(reverse("support:help"), {"from": origin}),
                   client.get(reverse("support:help"), HTTP_REFERER=origin)):
        assert ask_href(answer.content.decode()) == reverse("support:ask")
    form = client.get(reverse("support:ask"), {"from": origin}).content.decode()
    assert re.search(r'<input type="hidden" name="page" id="id_page">', form)  # nothing carried
    assert 'data-testid="from-page"' not in form


def test_a_session_between_password_and_second_factor_reads_the_help_page_only(client, manager):
    client.force_login(manager, second_factor=False)
    answer = client.get(reverse("support:help"))
    assert answer.status_code == 200 and b"assistanceplateforme@cmr.gov.ma" in answer.content
    assert b'data-testid="ask-link"' not in answer.content
    assert "/security/second-factor/" in client.get(reverse("support:ask"))["Location"]
    assert "/security/second-factor/" in client.get(reverse("support:requests"))["Location"]
