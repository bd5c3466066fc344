"""The dossier page's "next step" panel and the API's list of actions: the submitter is never offered
"Certify", both say who may certify (by name) and why the reader may not, and the page's queries do not
grow with its documents, its officers or its timeline."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from dossiers import services
from tests.dossiers.conftest import BASIC, fill
from tests.factories import AgentFactory, api_client_for

pytestmark = pytest.mark.django_db

FOUR_EYES = ("The officer who submitted the dossier may not certify it too: another officer with certifying "
             "authority must do it.")


def open_(user, affiliate):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code="age_limit")


def panel(content: bytes) -> str:
    page = content.decode()
    assert 'data-testid="next-step"' in page
    return page.split('data-testid="next-step"')[1].split("</section>")[0]


def step(content: bytes, name: str) -> str:
    return panel(content).split(f'data-testid="step-{name}"')[1].split("</li>")[0]


def test_the_submitter_sees_no_certify_button_and_who_may_certify(client, officers, affiliate, signed_pdf,
                                                                  certifying_agent):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf)
    services.submit(agent, dossier.pk)
    client.force_login(agent)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr").content
    assert b'data-testid="action-certify"' not in page  # the guard would refuse him
    assert b'data-testid="action-return"' in page  # what he may do, he is offered
    certify = step(page, "certify")
    assert 'data-allowed="0"' in certify and "<bdi>Amina El Idrissi</bdi>" in certify
    assert "Youssef Benali" not in certify  # the submitter is not named as a certifier
    with translation.override("fr"):
        assert escape(translation.gettext(FOUR_EYES)) in certify  # why not him
    # the same words in Arabic, for the same reasons
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="ar").content
    assert b'data-testid="action-certify"' not in page and "Amina El Idrissi" in step(page, "certify")

    client.force_login(manager)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="action-certify"' in page and 'data-allowed="1"' in step(page, "certify")
    client.post(reverse("dossiers:act", args=[dossier.pk, "certify"]), {"confirmed": "1"})
    assert services.selectors.dossiers_for(manager).get(pk=dossier.pk).state == "certified"


def test_the_panel_says_what_is_missing(client, officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="next-step-missing"' in page and 'data-allowed="0"' in step(page, "submit")
    assert 'data-testid="step-why"' in step(page, "submit")  # not until what is missing is there
    fill(agent, dossier, signed_pdf, BASIC[:-1])  # no RIB
    services.submit(agent, dossier.pk)
    client.force_login(manager)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr").content
    missing = panel(page).split('data-testid="next-step-missing"')[1].split("</ul>")[0]
    assert "Attestation de RIB" in missing and 'data-allowed="0"' in step(page, "certify")
    # his to take once the RIB is there: offered, and the click answers with what is missing
    assert b'data-testid="action-certify"' in page
    response = client.post(reverse("dossiers:act", args=[dossier.pk, "certify"]), follow=True,
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert b"alert-danger" in response.content and "Attestation de RIB" in response.content.decode()
    assert services.selectors.dossiers_for(manager).get(pk=dossier.pk).state == "awaiting_certification"


def test_a_cmr_agent_sees_the_collectivitys_officers_named(client, officers, affiliate):
    from tests.factories import CmrAgentFactory

    _manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(CmrAgentFactory())
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="action-cancel"' not in page
    cancel = step(page, "cancel")
    assert "Amina El Idrissi" in cancel and "Youssef Benali" in cancel and 'data-allowed="0"' in cancel


def test_the_api_lists_the_actions_with_the_same_answers(officers, affiliate, signed_pdf, certifying_agent):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf)
    services.submit(agent, dossier.pk)
    mine = api_client_for(agent).get(f"/api/v1/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    certify = next(a for a in mine["next_step"]["actions"] if a["action"] == "certify")
    assert certify["allowed"] is False and certify["offered"] is False and certify["who"] == ["Amina El Idrissi"]
    with translation.override("fr"):
        assert certify["reasons"] == [str(translation.gettext(FOUR_EYES))]
    assert mine["next_step"]["missing"] == []
    theirs = api_client_for(manager).get(f"/api/v1/dossiers/{dossier.pk}/").json()
    assert next(a for a in theirs["next_step"]["actions"] if a["action"] == "certify")["allowed"] is True


def test_the_page_queries_do_not_grow_with_documents_officers_or_events(client, officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, ["rib"])
    services.submit(agent, dossier.pk)
    client.force_login(manager)
    url = reverse("dossiers:detail", args=[dossier.pk])
    client.get(url)  # caches warmed (sessions, permissions, checklists)
    with CaptureQueriesContext(connection) as few:
        first = client.get(url)
    assert 'data-allowed="0"' in step(first.content, "certify")  # a document is missing
    services.apply_transition(dossier.pk, "return", by=manager, reason="Le dossier est incomplet")
    fill(agent, dossier, signed_pdf, [code for code in BASIC if code != "rib"])
    for n in range(4):
        AgentFactory(full_name=f"Certificateur {n}", can_certify_dossiers=True)
        services.add_observation(manager, dossier.pk, f"Observation {n}")
    services.submit(agent, dossier.pk)
    with CaptureQueriesContext(connection) as many:
        second = client.get(url)
    assert second.content.count(b'data-testid="document"') == len(BASIC)
    certify = step(second.content, "certify")
    assert 'data-allowed="1"' in certify and "Certificateur 3" in certify
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]
