"""Search: exact identifiers, fuzzy names in both scripts, scoping, bad queries, fixed SQL."""

from datetime import date

import pytest
from django.urls import reverse

from affiliates.selectors import search_affiliates
from tests.affiliates.factories import AffiliateFactory
from tests.factories import (
    AgentFactory,
    CmrAgentFactory,
    ManagerFactory,
    ProvincialOfficeFactory,
    other_commune,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "fatima": AffiliateFactory(cin="AB12345", ppr="1234567", affiliation_number="123456789"),
        "namesake": AffiliateFactory(birth_date=date(1980, 6, 1)),  # same name, other birth date
        "karim": AffiliateFactory(
            last_name_fr="El Idrissi",
            first_name_fr="Karim",
            sex="M",
            last_name_ar="الإدريسي",
            first_name_ar="كريم",
        ),
        "elsewhere": AffiliateFactory(
            collectivity=other_commune(),
            cin="CD999999",
            last_name_fr="El Idrissi",
            first_name_fr="Karim",
            last_name_ar="الإدريسي",
            first_name_ar="كريم",
        ),
    }


def ids(result):
    return [a.pk for a in result.results]


@pytest.mark.parametrize(
    "raw",
    ["AB12345", "ab 12345", " Ab-012345", "1234567", "00 1234567", "123456789", "0123-456-789"],
)
def test_an_identifier_finds_the_exact_person(people, raw):
    result = search_affiliates(ManagerFactory(), raw)
    assert result.error is None
    assert ids(result) == [people["fatima"].pk]


@pytest.mark.parametrize(
    "raw",
    [
        "el idrissi karim",
        "Karim El-Idrissi",
        "idrisi karim",
        "El Idrissy",
        "الادريسي كريم",
        "الإدْرِيسِي",
    ],
)
def test_a_name_finds_close_matches_in_both_scripts(people, raw):
    result = search_affiliates(ManagerFactory(), raw)
    assert ids(result) == [people["karim"].pk], raw


def test_the_closest_come_first_and_namesakes_can_be_told_apart(people, client):
    manager = ManagerFactory()
    AffiliateFactory(last_name_fr="Bennani", first_name_fr="Fatiha", first_name_ar="فتيحة")
    result = search_affiliates(manager, "bennani fatima")
    names = [(a.last_name_fr, a.first_name_fr) for a in result.results]
    assert names[:2] == [("Bennani", "Fatima")] * 2
    client.force_login(manager)
    body = client.get(reverse("affiliates:search"), {"q": "bennani fatima"}).content.decode()
    # Birth date, employer and PPR distinguish the two Fatima Bennani.
    assert "1234567" in body and "Tanger" in body
    assert body.count("Bennani Fatima") >= 2


def test_another_collectivitys_affiliate_is_never_found(people):
    manager = ManagerFactory()
    assert ids(search_affiliates(manager, "CD999999")) == []
    assert people["elsewhere"].pk not in ids(search_affiliates(manager, "el idrissi karim"))


def test_provincial_office_searches_its_communes_only(people):
    office = ProvincialOfficeFactory()
    assert ids(search_affiliates(office, "AB12345")) == [people["fatima"].pk]
    assert ids(search_affiliates(office, "CD999999")) == []


def test_without_the_consult_capability_the_search_is_refused(client, people):
    agent = AgentFactory(can_consult_affiliates=False)
    client.force_login(agent)
    assert client.get(reverse("affiliates:search"), {"q": "AB12345"}).status_code == 403
    client.force_login(CmrAgentFactory())  # the CMR keeps the registry: its agents consult it
    assert client.get(reverse("affiliates:search"), {"q": "AB12345"}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Saisissez un nom"),
        ("a", "au moins 2 lettres"),
        ("x" * 1000, "limitée à 100 caractères"),
        ("?!;:.", "Saisissez un nom"),
        ("ABC123456", "est pas une CIN"),
    ],
)
def test_bad_queries_get_a_clear_message_not_a_500(client, raw, message, people):
    client.force_login(ManagerFactory())
    response = client.get(reverse("affiliates:search"), {"q": raw})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'data-testid="search-results"' not in response.content.decode()


def test_results_are_paginated(client):
    manager = ManagerFactory()
    for _ in range(30):
        AffiliateFactory()
    client.force_login(manager)
    first = client.get(reverse("affiliates:search"), {"q": "bennani"})
    second = client.get(reverse("affiliates:search"), {"q": "bennani", "page": 2})
    assert first.context["result"].page.paginator.count == 30
    assert len(first.context["result"].results) == 25 and len(second.context["result"].results) == 5
    assert "page=2" in first.content.decode()


@pytest.mark.parametrize("n", [1, 3, 40])
def test_search_page_query_count_does_not_grow_with_rows(client, django_assert_num_queries, n):
    manager = ManagerFactory()
    for _ in range(n):
        AffiliateFactory()
    client.force_login(manager)
    # session, user, the second factor's device (still there?), the user's collectivity (page header),
    # the name's three tiers (the full name, every word's own forms, the forms the lexicon gives for
    # each of the two words: 2 queries), the page's people by id, the law 09-08 trail (the event with
    # the persons shown: one statement)
    with django_assert_num_queries(11):
        response = client.get(reverse("affiliates:search"), {"q": "bennani fatima"})
    assert len(response.context["result"].results) == min(n, 25)


def test_what_the_name_keys_miss_the_trigram_pass_finds(people):
    benkirane = AffiliateFactory(last_name_fr="Benkirane", first_name_fr="Karim", sex="M")
    result = search_affiliates(ManagerFactory(), "benkira")  # a partial name
    assert ids(result) == [benkirane.pk]


def test_an_account_that_sees_nothing_finds_nothing(people):
    from accounts.selectors import scope_q
    from affiliates.selectors import affiliates_for

    manager = ManagerFactory()
    manager.is_active = False  # a disabled account's scope is empty
    assert scope_q(manager) is None
    assert not affiliates_for(manager).filter(cin="AB12345").exists()


def test_a_national_account_is_not_filtered_by_a_list_of_every_collectivity(people):
    """The CMR sees the whole country: its queries carry no list (nor sub-select) of the 1,590
    collectivities for the database to plan; a commune's carry its one id."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CmrAgentFactory

    agent = CmrAgentFactory()
    with CaptureQueriesContext(connection) as queries:
        assert ids(search_affiliates(agent, "AB12345")) == [people["fatima"].pk]
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "accounts_collectivity" not in sql.split("FROM", 1)[1].split("INNER JOIN")[0]
    assert " IN (" not in sql and "collectivity_id" not in sql.split("WHERE", 1)[1]
    manager = ManagerFactory()
    with CaptureQueriesContext(connection) as queries:
        assert ids(search_affiliates(manager, "AB12345")) == [people["fatima"].pk]
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert f'"affiliates_affiliate"."collectivity_id" = {manager.collectivity_id}' in sql


def test_every_lookup_path_returns_the_same_person_field_by_field():
    """The exact lookup (raw SQL on PostgreSQL) and the name search (ORM) give identical fields: the
    raw rows are read in the model's column order (they once put the collectivity's id in status and
    rotated the employer's kind and names)."""
    from affiliates import selectors
    from affiliates.models import Affiliate
    from affiliates.serializers import affiliate_summary
    from tests.factories import api_client_for

    manager = ManagerFactory()
    person = AffiliateFactory(last_name_fr="Zemmouri", first_name_fr="Hind", status=Affiliate.Status.RETIRED)
    truth = Affiliate.objects.select_related("collectivity").get(pk=person.pk)
    expected = affiliate_summary(truth)
    api = api_client_for(manager, scope="read")
    for query in (truth.cin, truth.ppr, truth.affiliation_number, "Zemmouri Hind"):
        (found,) = selectors.search_affiliates(manager, query).results
        assert affiliate_summary(found) == expected, query
        assert (found.status, found.collectivity.kind, found.collectivity.name_fr, found.collectivity.name_ar) == (
            truth.status, truth.collectivity.kind, truth.collectivity.name_fr, truth.collectivity.name_ar), query
        (row,) = api.get("/api/v1/affiliates/", {"q": query}).json()["results"]
        assert row == expected, query


@pytest.mark.slow
def test_every_lookup_path_returns_the_same_person_on_sqlite_too(tmp_path):
    """The comparison above on SQLite (make run's database), where the exact lookup takes the ORM path:
    run in a subprocess, the suite's own database being PostgreSQL."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("this run is on SQLite already")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'lookup.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
         f"{__file__}::test_every_lookup_path_returns_the_same_person_field_by_field"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
