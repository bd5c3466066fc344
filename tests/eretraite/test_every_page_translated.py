"""Every page of every role, and every e-mail, in French and in Arabic: nothing untranslated, no raw code.

The test builds a registry and dossiers in the states each page shows (a draft with documents, one
awaiting certification, one certified whose delivery failed, one at each CMR stage, a correction
request), then, for each role, follows every link of the site from the home page (each kind of
page a few times, not every row), in each language, and checks what a reader sees
(``tests/eretraite/readable.py``). Data is allowed in its own script only where it is data: a
person's name in French, a file name, an e-mail address; a region's, a council's or a grade's name
is not data but a label, and must be in the reader's language.
"""

import os
import re
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail

from tests.eretraite.readable import problems
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LANGUAGES = ("fr", "ar")
PER_KIND = 2  # pages of one kind (same path but for its numbers) checked per role and language
MAX_PAGES = 160
_NOT_FOLLOWED = re.compile(r"^/(static|media)/|/logout|/i18n/|/admin/jsi18n|/admin/logout|/api/|"
                           r"\.(pdf|xlsx|csv|zip|png|svg|ico)(\?|$)|/download|/file|/slip|/export")


@pytest.fixture
def world(pki_settings, signed_pdf, django_capture_on_commit_callbacks):  # noqa: F811
    from tests.world import build_world

    with django_capture_on_commit_callbacks(execute=True):
        return build_world(signed_pdf)


def data_words():
    """The words of data shown as it is in any language: people's names in French, accounts' names,
    file names, e-mail addresses, usernames."""
    from accounts.models import User
    from affiliates.models import Affiliate, CorrectionRequest, FamilyMember
    from dossiers.models import Document

    words = set()
    values = []
    for a in Affiliate.objects.all():
        values += [a.last_name_fr, a.first_name_fr]
    values += list(FamilyMember.objects.values_list("full_name_fr", flat=True))
    for u in User.objects.all():
        values += [u.full_name, u.username, u.email, u.get_full_name()]
    values += list(Document.objects.values_list("original_name", flat=True))
    for correction in CorrectionRequest.objects.all():  # what the officer wrote, and his file's name
        values += [correction.reason, correction.document_name]
    for value in values:
        words.update(re.findall(r"[\w.'’-]+", str(value or "")))
        words.update(re.findall(r"[A-Za-zÀ-ÿ]+", str(value or "")))
    return frozenset(words)


def admin_data_words():
    """What the admin shows as data in its own columns: the collectivities' and dossier kinds' French names
    (beside their Arabic ones), and the texts frozen when they were written (the audit trail's targets, the
    admin's own history of changes)."""
    from django.contrib.admin.models import LogEntry

    from accounts.models import AuditEvent, Collectivity
    from dossiers.models import DossierKind

    values = [*Collectivity.objects.values_list("name_fr", flat=True),
              *DossierKind.objects.values_list("label_fr", flat=True),
              *AuditEvent.objects.values_list("target_repr", flat=True),
              *AuditEvent.objects.values_list("actor_repr", flat=True),
              *LogEntry.objects.values_list("object_repr", flat=True)]
    return frozenset(w for v in values for w in re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’]+|[A-Za-zÀ-ÿ]+", v))


def crawl(client, language, start=("/", "/help/")):
    """(url, html) of the pages reachable from the home page, each kind of page ``PER_KIND`` times."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    queue, seen, kinds, pages = deque(start), set(), Counter(), []
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        kind = re.sub(r"\d+", "N", urlsplit(url).path) + "?" + ",".join(
            sorted(k.split("=")[0] for k in urlsplit(url).query.split("&") if k))
        if kinds[kind] >= PER_KIND:
            continue
        kinds[kind] += 1
        response = client.get(url)
        if response.status_code in (301, 302):
            target = response.headers["Location"]
            if target.startswith("/") and not _NOT_FOLLOWED.search(target):
                queue.append(target)
            continue
        assert response.status_code < 500, (url, response.status_code)
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages.append((url, html))
        for href in re.findall(r'href="([^"#]+)', html):
            href = href.replace("&amp;", "&")
            if href.startswith("?"):
                href = urlsplit(url).path + href
            if href.startswith("/") and not _NOT_FOLLOWED.search(href):
                queue.append(href)
    return pages


@pytest.mark.parametrize("role", ["manager", "agent", "provincial_office", "cmr_agent", "dgct_admin",
                                  "privacy_officer"])
def test_every_page_of_every_role_is_in_the_readers_language(client, world, role):
    allowed = data_words()
    client.force_login(world[role])
    report, visited = [], []
    for language in LANGUAGES:
        pages = crawl(client, language, ("/", "/help/", "/admin/") if role.startswith("dgct") else ("/", "/help/"))
        assert len(pages) > 3, (role, language, [u for u, _ in pages])
        visited += [f"[{language}] {url}" for url, _ in pages]
        for url, html in pages:
            assert f'lang="{language}"' in html, (url, language)
            # The admin's data words grow as the crawl writes the trail (each page viewed is recorded).
            for what, text in problems(html, language, allowed | admin_data_words() if url.startswith("/admin/")
                                       else allowed):
                report.append(f"[{language}] {url}: {what} in «{text[:120]}»")
    report = sorted(set(report))
    if os.environ.get("I18N_REPORT"):  # the whole list, to work through
        Path(os.environ["I18N_REPORT"]).with_suffix(f".{role}.txt").write_text("\n".join(report))
        Path(os.environ["I18N_REPORT"]).with_suffix(f".{role}.pages").write_text("\n".join(visited))
    assert not report, f"{len(report)} untranslated or raw:\n" + "\n".join(report[:80])


def test_the_pages_before_login_are_in_the_readers_language(client):
    allowed = data_words()
    report = []
    for language in LANGUAGES:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in ("/accounts/login/", "/help/", "/no-such-page/", "/accounts/password-reset/"):
            response = client.get(url, follow=True)
            for what, text in problems(response.content.decode(), language, allowed):
                report.append(f"[{language}] {url}: {what} in «{text[:120]}»")
    assert not report, "\n".join(sorted(set(report)))


def test_every_email_is_in_both_languages_and_nothing_raw(world):
    """The e-mails the platform sends (links, deliveries that failed, stages, answers), each written in
    French then Arabic: both halves checked."""
    from accounts import mail as account_mail

    account_mail.queue([world["agent"]])
    account_mail.send_all_due()
    assert mail.outbox, "no e-mail was sent"
    allowed = data_words()
    report = []
    for message in mail.outbox:
        lines = [part for line in [message.subject, *message.body.splitlines()] for part in line.split(" / ")]
        for language in LANGUAGES:
            # The French half is checked for English and codes; the Arabic lines for Latin words too.
            shown = [line for line in lines if language == "fr" or re.search(r"[\u0600-\u06ff]", line)]
            for what, text in problems("".join(f"<p>{line}</p>" for line in shown), language, allowed):
                report.append(f"[{language}] {message.subject}: {what} in «{text[:120]}»")
    assert not report, "\n".join(sorted(set(report)))


def test_the_apis_refusals_are_in_the_callers_language(world):
    """Not found, not allowed, not understood, not authenticated: every message of the API's error shape
    in the language the caller asks for (Accept-Language), none of Django's or DRF's English."""
    from rest_framework.test import APIClient

    from tests.factories import api_client_for

    allowed = data_words()
    api = api_client_for(world["manager"])
    anonymous = APIClient()
    report = []
    for language in LANGUAGES:
        answers = [
            api.get("/api/v1/affiliates/999999999/", HTTP_ACCEPT_LANGUAGE=language),
            api.get("/api/v1/dossiers/999999999/", HTTP_ACCEPT_LANGUAGE=language),
            api.get("/api/v1/affiliates/", {"q": "12AB34"}, HTTP_ACCEPT_LANGUAGE=language),
            api.post("/api/v1/dossiers/", {"affiliate": "x"}, format="json", HTTP_ACCEPT_LANGUAGE=language),
            api.delete("/api/v1/affiliates/", HTTP_ACCEPT_LANGUAGE=language),
            anonymous.get("/api/v1/affiliates/", HTTP_ACCEPT_LANGUAGE=language),
            api_client_for(world["cmr_agent"]).post("/api/v1/dossiers/", {}, format="json",
                                                     HTTP_ACCEPT_LANGUAGE=language),
        ]
        for answer in answers:
            assert answer.status_code >= 400, answer.request["PATH_INFO"]
            body = answer.json()
            messages = [body.get("detail", "")] + [m for ms in (body.get("fields") or {}).values() for m in ms]
            for what, text in problems("".join(f"<p>{m}</p>" for m in messages), language, allowed):
                report.append(f"[{language}] {answer.request['REQUEST_METHOD']} {answer.request['PATH_INFO']} "
                              f"{answer.status_code}: {what} in «{text}»")
    assert not report, "\n".join(sorted(set(report)))


@pytest.mark.parametrize("text, language, flagged", [
    ("Lucy Noël", "fr", False),          # a French name is one word, "Noël", not "No" + "ël"
    ("Łukasz Nowak", "ar", True),        # Latin-Extended name on an Arabic page: data only if declared
    ("Choisir No dossier", "fr", True),  # an English word between French ones is still caught
    ("ملف Nº 12", "ar", False),
])
def test_the_checker_reads_whole_words_of_any_script(text, language, flagged):
    assert bool(problems(f"<p>{text}</p>", language, frozenset())) is flagged
    assert not problems(f"<p>{text}</p>", language, frozenset(text.split()))
