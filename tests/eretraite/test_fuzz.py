"""No input gives a server error, and a refused input writes nothing: hostile values (NUL bytes, very
long strings, non-integers, numbers past any column, impossible dates, deeply nested JSON, another
site's address) are posted to every URL of the site and the API that takes a parameter or a form, as
every role. The URLs come from the URL configuration itself, so a new view is fuzzed without
anyone remembering to."""

import itertools
import logging
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User
from affiliates.models import CorrectionRequest
from cmr.models import Transmission
from dossiers import services
from dossiers.models import Document, Dossier, Event
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.factories import AgentFactory, CmrAgentFactory, DgctAdminFactory, ManagerFactory, ProvincialOfficeFactory
from tests.pki import pki  # noqa: F401 - used by pki_settings
from tests.pki import pki_settings as pki_settings  # noqa: F401

pytestmark = pytest.mark.django_db

# Values no field accepts (no text may hold a NUL or be this long): nothing may be written.
REFUSED = ["a\x00b", "x" * 5000]
# Values only a free text accepts (not a number, a date, a choice or an id): they must break nothing.
NASTY = ["99999999999999999999999", "-1", "abc", "1e309", "2026-13-45", "0001-01-01", "1800-01-01",
         "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace") * 200, "' OR 1=1 --",
         "<script>alert(1)</script>", "٠١٢٣\u202e\u200f²", "https://evil.example/", "//evil.example/",
         "javascript:alert(1)", "../../etc/passwd", ""]
FIELDS = ["q", "page", "state", "kind", "status", "region", "province", "item", "text", "reason", "field",
          "proposed_value", "next", "language", "member", "affiliate", "parent", "on", "collectivity", "items",
          "full_name", "cin", "email", "position", "phone_mobile", "password", "username", "decision",
          "can_consult_affiliates", "can_prepare_dossiers", "can_certify_dossiers", "new_password1", "new_password2",
          "old_password", "code", "trust", "identifier", "name", "scope", "days", "since", "until", "account",
          "person", "action", "reads_only", "format"]
PATH_VALUES = {"int": ["99999999999999999999"], "str": ["x" * 300]}
NESTED = "[" * 20000 + "]" * 20000
# Acts that take no input: posting to them is the act itself, whatever else is sent.
NO_INPUT = ("/assign/", "/logout/", "/resend/", "/active/", "/retry/", "/revoke/", "/reset/", "/recovery-codes/")


def _patterns(resolvers=None, prefix=""):
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue  # the admin is fuzzed by Django's own test suite; its forms by test_admin
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _urls(known):
    """Every pattern, its parameters filled with real ids (``known``) and hostile values; each URL with
    whether its path is hostile (such a URL is refused before any input is read)."""
    urls = set()
    for pattern in _patterns():
        if "^" in pattern or "(?P" in pattern:  # the API router's regexes
            if "format" in pattern:
                continue  # the .json variants of the same views
            pattern = pattern.replace("^", "").replace("$", "").replace("/?", "/")
            pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<int:\1>", pattern)
        names = re.findall(r"<(?:(\w+):)?(\w+)>", pattern)
        if not names:
            urls.add(("/" + pattern.replace("\\", ""), False))
            continue
        choices = []
        for converter, name in names:
            values = list(PATH_VALUES.get(converter or "str", ["x"]))
            if name in known:
                values.append(str(known[name]))
            choices.append(values)
        for combination in itertools.product(*choices):
            hostile = any(value in PATH_VALUES.get(converter or "str", []) for (converter, _name), value
                          in zip(names, combination, strict=True))
            url = pattern
            for (converter, name), value in zip(names, combination, strict=True):
                token = rf"<(?:{converter}:)?{name}>" if converter else f"<{name}>"
                url = re.sub(token, value, url, count=1)
            urls.add(("/" + url.replace("\\", ""), hostile))
    return sorted(urls)


def _payloads(values):
    for value in values:
        yield dict.fromkeys(FIELDS, value)


def _counts():
    return (Dossier.objects.count(), Document.objects.count(), CorrectionRequest.objects.count(),
            Transmission.objects.count(), User.objects.count(), Event.objects.count())


@pytest.fixture
def world(request):
    request.getfixturevalue("pki_settings")
    from datetime import date

    manager = ManagerFactory(username="AB123456", cin="AB123456")
    agent = AgentFactory(can_prepare_dossiers=True)
    affiliate = with_career(AffiliateFactory(birth_date=date(1964, 3, 14)))
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    accounts = {"anonymous": None, "manager": manager, "agent": agent,
                "provincial office": ProvincialOfficeFactory(), "CMR agent": CmrAgentFactory(),
                "DGCT": DgctAdminFactory(is_superuser=True)}
    known = {"pk": dossier.pk, "affiliate_id": affiliate.pk, "doc_pk": 1, "round": 1, "name": "submit",
             "token": "x"}
    return accounts, known


def _send(client, failures, who, method, url, data, **extra):
    """One request; a crash or a 5xx is recorded in ``failures``. The status, or None on a crash."""
    try:
        answer = getattr(client, method)(url, data, **extra)
    except Exception as exc:  # noqa: BLE001 - a crash is what this test looks for
        failures.append((who, method, url, str(data)[:20], repr(exc)[:300]))
        return None
    if answer.status_code >= 500:
        failures.append((who, method, url, str(data)[:20], answer.status_code))
    return answer


def _reached(answer, anonymous) -> bool:
    """Whether the view itself ran (else no payload can reach it): not a refused method, and for the
    anonymous visitor not the way to the login."""
    if answer is None or answer.status_code == 405:
        return answer is None
    return not (anonymous and (answer.status_code in (401, 403) or "/login/" in answer.get("Location", "")))


@pytest.fixture
def quiet_refusals():
    """Thousands of 4xx are the expected answers here: their warnings (with tracebacks) are not printed."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)  # a 5xx still shows its traceback
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_no_input_gives_a_server_error_or_writes_anything(world, client, settings, quiet_refusals):
    settings.SECURE_SSL_REDIRECT = False
    accounts, known = world
    urls = [(url, hostile) for url, hostile in _urls(known)
            if not url.startswith("/cmr/callbacks")]  # signed: test_callback_view
    tried, failures = 0, []
    for who, account in accounts.items():
        for url, hostile_path in urls:
            client.logout()  # a URL may have changed the session (act for a commune, log out)
            if account is not None:
                client.force_login(account)
            methods = [method for method in ("get", "post")
                       if not (method == "post" and any(part in url for part in NO_INPUT))
                       and _reached(_send(client, failures, who, method, url, {}), account is None)]
            tried += 2
            before = _counts()
            for values, writes_nothing in (((REFUSED[:1], True),) if hostile_path else
                                           ((REFUSED, True), (NASTY, False))):
                for payload in _payloads(values):
                    for method in methods:
                        tried += 1
                        _send(client, failures, who, method, url, payload)
                if writes_nothing and _counts() != before:
                    failures.append((who, url, "wrote something on invalid input", before, _counts()))
                    before = _counts()
            if url.startswith("/api/") and "post" in methods and not hostile_path:
                tried += 1
                _send(client, failures, who, "post", url, NESTED, content_type="application/json")
    assert len(urls) > 60 and tried > 3000  # the URL configuration was read, and every URL was tried
    print(f"fuzz: {len(urls)} URLs, {tried} requests, {len(failures)} failures")
    causes = {}
    for failure in failures:
        causes.setdefault((failure[2].split("/")[1:4].__str__(), str(failure[-1])[:120]), failure)
    for failure in causes.values():
        print("FAIL", failure)
    assert not failures, failures[:30]
