"""Lists of dossiers at scale (issue 16): the portfolio, the CMR's queue and the home pages run the
same number of SQL queries whatever the number of dossiers and whichever page is read, and a page
reads its ids without joining the million affiliates (``eretraite.paging.IdsFirstPaginator``)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Dossier, DossierKind, State
from tests.affiliates.factories import AffiliateFactory
from tests.factories import CmrAgentFactory, ManagerFactory

pytestmark = pytest.mark.django_db

STATES = [State.DRAFT, State.TRANSMITTED, State.RECEIVED, State.UNDER_REVIEW, State.LIQUIDATED,
          State.DOCUMENTS_REQUESTED, State.IN_PAYMENT]


def dossiers(n, manager):
    kind = DossierKind.objects.get(code="age_limit")
    now = timezone.now()
    made = []
    for i in range(n):
        person = AffiliateFactory(collectivity=manager.collectivity)
        made.append(Dossier.objects.create(
            kind=kind, affiliate=person, collectivity=manager.collectivity, state=STATES[i % len(STATES)],
            state_changed_at=now - timedelta(days=i), created_by=manager, assigned_to=manager,
            due_date=(now + timedelta(days=i)).date()))
    return made


def queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("path, who, params", [
    ("dossiers:list", "manager", {}),
    ("dossiers:list", "manager", {"sort": "name"}),
    ("dossiers:queue", "cmr", {}),
    ("dossiers:queue", "cmr", {"view": "all", "sort": "name"}),
    ("home", "manager", {}),
    ("home", "cmr", {}),
])
def test_a_list_runs_the_same_queries_for_few_and_many_dossiers(client, path, who, params):
    manager = ManagerFactory()
    reader = manager if who == "manager" else CmrAgentFactory()
    client.force_login(reader)
    dossiers(3, manager)
    few = len(queries(client, reverse(path), params))
    dossiers(60, manager)
    many = queries(client, reverse(path), params)
    second_page = queries(client, reverse(path), {**params, "page": 2}) if path != "home" else many
    assert len(many) == few and len(second_page) == few, "\n\n".join(many)


@pytest.mark.parametrize("path, who", [("dossiers:list", "manager"), ("dossiers:queue", "cmr")])
def test_a_page_of_dossiers_reads_its_ids_without_the_affiliates(client, path, who):
    manager = ManagerFactory()
    made = dossiers(30, manager)
    client.force_login(manager if who == "manager" else CmrAgentFactory())
    sql = queries(client, reverse(path))
    pages = [q for q in sql if re.match(r'SELECT "dossiers_dossier"."id"( AS "pk")? FROM "dossiers_dossier"', q)
             and "LIMIT" in q]
    assert pages, "no page query"
    assert all('"affiliates_affiliate"' not in q for q in pages)
    rows = [q for q in sql if '"dossiers_dossier"."id" IN (' in q and '"affiliates_affiliate"' in q]
    assert rows, "the page's rows are read with their affiliates, by id"
    page = client.get(reverse(path)).context["page"]
    shown = {State.TRANSMITTED, State.RECEIVED, State.UNDER_REVIEW, State.LIQUIDATED}  # the queue's "to process"
    expected = [d for d in made if who == "manager" or d.state in shown]
    assert len(page.object_list) == min(25, len(expected)) and page.paginator.count == len(expected)
