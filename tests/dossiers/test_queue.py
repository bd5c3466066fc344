"""The CMR's queue (issue 14, item 7): only dossiers that reached the CMR, "to process" by waiting time,
counts per stage, filters by region, province, kind and delay, names in the reader's language."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Collectivity
from dossiers.models import Dossier, DossierKind
from dossiers.workflow import State
from tests.affiliates.factories import AffiliateFactory
from tests.factories import AgentFactory, CmrAgentFactory, ManagerFactory, api_client_for, commune, other_commune

pytestmark = pytest.mark.django_db

BEFORE_CMR = {"draft", "awaiting_certification", "certified", "cancelled"}
AT_CMR = {"transmitted", "received", "under_review", "documents_requested", "liquidated", "in_payment", "rejected"}
TO_PROCESS = {"transmitted", "received", "under_review", "liquidated"}


def dossier(state, *, days=1, kind="age_limit", where=None):
    """A dossier of ``where`` (Tanger by default) in ``state`` for ``days`` days."""
    where = where or commune()
    affiliate = AffiliateFactory(collectivity=where)
    return Dossier.objects.create(kind=DossierKind.objects.get(code=kind), affiliate=affiliate, collectivity=where,
                                  state=state, state_changed_at=timezone.now() - timedelta(days=days),
                                  created_by=AgentFactory(collectivity=where))


def rows(response):
    """The (pk, state) of the queue's rows, in their order."""
    assert response.status_code == 200
    return [(int(pk), state) for state, pk in
            re.findall(r'data-testid="dossier-row" data-state="(\w+)" data-pk="(\d+)"', response.content.decode())]


def shown(response):
    return [pk for pk, _state in rows(response)]


def count_of(response, state):
    """The number shown on the stage's count, and its link."""
    match = re.search(rf'<a [^>]*href="([^"]*)" data-state="{state}">[^<]*<span [^>]*>(\d+)</span>',
                      response.content.decode())
    assert match, state
    return int(match.group(2)), match.group(1).replace("&amp;", "&")


@pytest.fixture
def cmr(client):
    agent = CmrAgentFactory()
    client.force_login(agent)
    return agent


@pytest.fixture
def every_state():
    """One Tanger dossier in each state of the workflow."""
    return {state.value: dossier(state) for state in State}


def test_the_queue_and_home_never_show_the_collectivities_work(client, cmr, every_state):
    queue = reverse("dossiers:queue")
    assert {s for _pk, s in rows(client.get(queue))} == TO_PROCESS  # the default view: "to process"
    everything = rows(client.get(queue, {"view": "all"}))
    assert {s for _pk, s in everything} == AT_CMR and len(everything) == 7
    for state in BEFORE_CMR:  # asked for by hand: not a stage of the queue, said so, and not shown
        page = client.get(queue, {"state": state})
        assert b'data-testid="ignored-filters"' in page.content and b'data-field="state"' in page.content
        assert {s for _pk, s in rows(page)} == TO_PROCESS
    home = client.get(reverse("home")).content.decode()
    counts = set(re.findall(r'<li data-state="(\w+)">', home))
    assert counts == AT_CMR
    assert client.get(reverse("dossiers:list")).content.count(b'data-testid="dossier-row"') == 7
    # the collectivity still sees all its own dossiers, drafts first of all
    client.force_login(ManagerFactory())
    assert client.get(reverse("dossiers:list")).content.count(b'data-testid="dossier-row"') == 11
    assert 'data-state="draft"' in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("scope", ["read_write", "read"])
def test_the_api_lists_a_cmr_account_what_reached_the_cmr(cmr, every_state, scope):
    listed = api_client_for(cmr, scope=scope).get("/api/v1/dossiers/").json()
    assert listed["count"] == 7 and {d["status"] for d in listed["results"]} == AT_CMR
    assert api_client_for(cmr, scope=scope).get("/api/v1/dossiers/", {"status": "draft"}).json()["count"] == 0


def test_to_process_by_waiting_time_longest_first(client, cmr):
    recent = dossier("received", days=2)
    oldest = dossier("transmitted", days=40)
    middle = dossier("under_review", days=10)
    liquidated = dossier("liquidated", days=5)
    requested = dossier("documents_requested", days=60)
    paid, rejected = dossier("in_payment", days=90), dossier("rejected", days=100)
    queue = reverse("dossiers:queue")
    assert shown(client.get(queue)) == [oldest.pk, middle.pk, liquidated.pk, recent.pk]
    assert shown(client.get(queue, {"view": "to_process"})) == [oldest.pk, middle.pk, liquidated.pk, recent.pk]
    assert shown(client.get(queue, {"view": "waiting"})) == [requested.pk]  # the collectivity has the hand
    assert shown(client.get(queue, {"view": "closed"})) == [rejected.pk, paid.pk]  # only when asked
    assert shown(client.get(queue, {"state": "in_payment"})) == [paid.pk]
    assert shown(client.get(queue, {"sort": "opened"})) == [liquidated.pk, middle.pk, oldest.pk, recent.pk]
    page = client.get(queue).content.decode()
    assert re.search(r'class="nav-link active" aria-current="page" href="[^"]*view=to_process"', page)


def test_counts_per_stage_link_to_their_filter(client, cmr):
    for state, n in [("transmitted", 2), ("received", 1), ("documents_requested", 3), ("rejected", 1)]:
        for _i in range(n):
            dossier(state)
    dossier("draft")
    dossier("received", where=other_commune())
    queue = reverse("dossiers:queue")
    page = client.get(queue)
    assert count_of(page, "transmitted") == (2, "?state=transmitted")
    assert count_of(page, "received")[0] == 2
    assert count_of(page, "documents_requested")[0] == 3
    assert count_of(page, "in_payment")[0] == 0
    assert b'data-state="draft"' not in page.content
    _n, link = count_of(page, "documents_requested")
    assert len(rows(client.get(queue + link))) == 3
    views = dict(re.findall(r'data-view="(\w+)">[^<]*<span [^>]*>(\d+)<', page.content.decode()))
    assert views == {"to_process": "4", "waiting": "3", "closed": "1", "all": "8"}
    # under a filter, the counts are the filter's, and each link keeps it
    region = commune().region
    page = client.get(queue, {"region": region.pk})
    n, link = count_of(page, "received")
    assert n == 1 and link == f"?region={region.pk}&state=received"
    assert len(rows(client.get(queue + link))) == 1


def test_filters_by_region_province_kind_and_delay(client, cmr):
    tanger, fes = commune(), other_commune()
    in_tanger = dossier("received", days=3, where=tanger)
    in_fes = dossier("received", days=45, kind="death", where=fes)
    province_council = dossier("under_review", days=100, where=tanger.province)
    region_council = dossier("transmitted", days=8, where=tanger.region)
    queue = reverse("dossiers:queue")
    assert set(shown(client.get(queue, {"region": tanger.region_id}))) == {in_tanger.pk, province_council.pk,
                                                                          region_council.pk}
    assert shown(client.get(queue, {"region": fes.region_id})) == [in_fes.pk]
    assert set(shown(client.get(queue, {"province": tanger.province_id}))) == {in_tanger.pk, province_council.pk}
    assert shown(client.get(queue, {"province": fes.province_id})) == [in_fes.pk]
    assert shown(client.get(queue, {"region": fes.region_id, "province": tanger.province_id})) == []
    assert shown(client.get(queue, {"kind": "death"})) == [in_fes.pk]
    assert shown(client.get(queue, {"delay": 7})) == [province_council.pk, in_fes.pk, region_council.pk]
    assert shown(client.get(queue, {"delay": 30})) == [province_council.pk, in_fes.pk]
    assert shown(client.get(queue, {"delay": 90})) == [province_council.pk]
    assert shown(client.get(queue, {"min_days": 60})) == [province_council.pk]  # older links
    assert shown(client.get(queue, {"collectivity": fes.code})) == [in_fes.pk]
    assert shown(client.get(queue, {"kind": "age_limit", "delay": 7, "state": "under_review"})) == [
        province_council.pk]
    page = client.get(queue, {"province": tanger.province_id, "delay": 30}).content.decode()
    assert f'<option value="{tanger.province_id}" selected>' in page and '<option value="30" selected>' in page


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_region_and_province_names_in_the_readers_language(client, cmr, settings, how):
    tanger = commune()
    dossier("received", where=tanger)
    kwargs = {"HTTP_ACCEPT_LANGUAGE": "ar"}
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
        kwargs = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    page = client.get(reverse("dossiers:queue"), **kwargs).content.decode()
    region, province = tanger.region, tanger.province
    assert 'dir="rtl"' in page
    assert f'<option value="{region.pk}" >{region.name_ar}</option>' in page
    assert f'<optgroup label="{region.name_ar}">' in page and f">{province.name_ar}</option>" in page
    assert f'<div class="small text-body-secondary" data-testid="province">{province.name_ar}</div>' in page
    assert tanger.name_ar in page and region.name_fr not in page and province.name_fr not in page
    french = client.get(reverse("dossiers:queue"), HTTP_ACCEPT_LANGUAGE="fr")
    if how == "header":
        french = french.content.decode()
        assert f">{region.name_fr}</option>" in french and f">{province.name_fr}</option>" in french


def test_bad_filter_values_are_named_and_left_out(client, cmr):
    tanger = commune()
    recent = dossier("received", days=2)
    old = dossier("under_review", days=50)
    dossier("draft")
    bad = {"region": "abc", "province": str(tanger.region_id),  # a region is not a province
           "kind": "nope", "delay": "5", "sort": "sideways", "view": "everything", "state": "draft",
           "min_days": "-3", "collectivity": "x" * 300, "page": "zz"}
    page = client.get(reverse("dossiers:queue"), bad)
    assert page.status_code == 200
    ignored = set(re.findall(r'<li data-field="(\w+)">', page.content.decode()))
    assert ignored == set(bad) - {"page"}
    assert shown(page) == [old.pk, recent.pk]  # the default view, nothing lost
    mixed = client.get(reverse("dossiers:queue"), {"region": "abc", "delay": "30"})
    assert shown(mixed) == [old.pk]  # a good filter still applies beside a bad one
    assert count_of(mixed, "received")[1] == "?delay=30&state=received"  # and only it is carried on
    assert client.get(reverse("dossiers:queue"), {"region": "99999999999999999999"}).status_code == 200
    assert client.get(reverse("dossiers:queue"), {"page": "9999"}).status_code == 200


def test_a_collectivity_account_has_no_queue(client):
    client.force_login(ManagerFactory())
    assert client.get(reverse("dossiers:queue")).status_code == 403


def test_queue_queries_do_not_grow_with_rows(client, cmr):
    places = list(Collectivity.objects.filter(kind="commune").order_by("code")[:40:4])
    dossier("received", where=places[0])
    dossier("transmitted", where=places[1])
    queue = reverse("dossiers:queue")
    with CaptureQueriesContext(connection) as few:
        assert len(rows(client.get(queue))) == 2
    for i, where in enumerate(places * 2):
        dossier(["received", "under_review", "liquidated", "transmitted"][i % 4], days=i, where=where,
                kind=["age_limit", "death"][i % 2])
    with CaptureQueriesContext(connection) as many:
        assert len(rows(client.get(queue))) == 22
    assert len(many.captured_queries) == len(few.captured_queries)
    with CaptureQueriesContext(connection) as filtered:
        assert client.get(queue, {"region": places[0].region_id, "delay": 7}).status_code == 200
    assert len(filtered.captured_queries) == len(few.captured_queries)
