"""A commune delegates a dossier to its provincial office, which checks it, may complete it and returns it
with its observations; meanwhile the dossier is locked for the commune; every act of the office says
"on behalf of" the commune. Each refusal is explained."""

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.models import AuditEvent
from dossiers import services
from dossiers.models import Dossier
from tests.dossiers.conftest import BASIC, fill
from tests.dossiers.test_transitions import option, refused, state
from tests.factories import ProvincialOfficeFactory, other_commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    """The provincial office of Tanger-Assilah."""
    return ProvincialOfficeFactory(full_name="Rachid Office")


@pytest.fixture
def draft(officers, affiliate, signed_pdf):
    """Tanger's agent's draft, all but the RIB there."""
    _manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(agent, dossier, signed_pdf, BASIC[:-1])
    return Dossier.objects.get(pk=dossier.pk)


def test_the_delegation_round_trip(client, officers, office, draft, signed_pdf):
    manager, agent = officers
    services.delegate(agent, draft.pk)
    dossier = Dossier.objects.get(pk=draft.pk)
    assert dossier.delegated_to == dossier.collectivity.province and dossier.delegated_at
    assert AuditEvent.objects.filter(action="dossier.delegated", actor=agent, target_id=str(dossier.pk)).exists()

    # the commune is locked meanwhile: no document, no step of the workflow, no second certifier
    rib = signed_pdf(cin="CD789012", text="rib by the commune")
    code, reasons = refused(services.add_document, agent, dossier.pk, item_code="rib", data=rib, filename="rib.pdf")
    assert code == "delegated" and "delegated to the provincial office" in reasons
    cin = dossier.documents.get(item__code="cin")
    code, _ = refused(services.remove_document, agent, cin.pk)
    assert code == "delegated"
    code, reasons = refused(services.submit, agent, dossier.pk)
    assert code == "delegated" and "until the office returns it" in reasons
    code, _ = refused(services.name_second_certifier, manager, dossier.pk, None)
    assert code == "not_allowed"
    assert not option(agent, dossier, "submit").offered and not option(agent, dossier, "cancel").offered
    client.force_login(agent)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="delegated"' in page and b'data-testid="upload-rib"' not in page
    assert b'data-testid="action-submit"' not in page and b'data-testid="return-delegation"' not in page

    # the office completes it and observes, on behalf of the commune
    client.force_login(office)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="upload-rib"' in page and b'data-testid="return-delegation"' in page
    document, report = services.add_document(office, dossier.pk, item_code="rib", filename="rib.pdf",
                                             data=signed_pdf(cin="CD789012", text="rib by the office"))
    assert document is not None, report.code
    services.add_observation(office, dossier.pk, "Le RIB manquait : ajouté.")
    code, reasons = refused(services.return_delegation, office, dossier.pk, "  ")
    assert code == "reason_required"
    response = client.post(reverse("dossiers:return_delegation", args=[dossier.pk]),
                           {"text": "Dossier vérifié, complet."}, follow=True)
    assert response.status_code == 200
    dossier.refresh_from_db()
    assert dossier.delegated_to is None and dossier.delegated_at is None
    for action in ("document_added", "observation", "delegation_returned"):
        event = dossier.events.filter(action=action, actor=office).get()
        assert event.on_behalf_of == dossier.collectivity, action
    assert dossier.events.get(action="delegation_returned").text == "Dossier vérifié, complet."
    assert AuditEvent.objects.get(action="dossier.delegation_returned").on_behalf_of == dossier.collectivity
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with translation.override("fr"):
        assert escape(translation.gettext("on behalf of %(c)s") % {"c": dossier.collectivity.council_label}) in \
            page.split('data-action="delegation_returned"')[1].split("</li>")[0]

    # the commune has the hand back: it submits, its manager certifies
    services.submit(agent, dossier.pk)
    services.certify(manager, dossier.pk)
    assert state(dossier) == "certified"


def test_a_commune_without_a_provincial_office_cannot_delegate(officers, draft):
    _manager, agent = officers
    code, reasons = refused(services.delegate, agent, draft.pk)
    assert code == "not_allowed" and "has no active account on the portal" in reasons
    assert Dossier.objects.get(pk=draft.pk).delegated_to is None


def test_delegating_twice_is_refused(officers, office, draft):
    _manager, agent = officers
    services.delegate(agent, draft.pk)
    code, reasons = refused(services.delegate, agent, draft.pk)
    assert code == "not_allowed" and "already delegated" in reasons
    assert Dossier.objects.get(pk=draft.pk).events.filter(action="delegated").count() == 1


def test_the_office_of_another_province_cannot_act_on_it(officers, office, draft, signed_pdf):
    _manager, agent = officers
    services.delegate(agent, draft.pk)
    stranger = ProvincialOfficeFactory(collectivity=other_commune().province)
    with pytest.raises(Http404):
        services.return_delegation(stranger, draft.pk, "Rendu.")
    with pytest.raises(Http404):
        services.add_document(stranger, draft.pk, item_code="rib", filename="rib.pdf",
                              data=signed_pdf(cin="CD789012", text="rib"))
    assert Dossier.objects.get(pk=draft.pk).delegated_to == draft.collectivity.province


def test_who_delegates_and_who_returns(officers, office, draft):
    manager, agent = officers
    code, reasons = refused(services.delegate, office, draft.pk)  # the office does not delegate to itself
    assert code == "not_allowed" and "commune's own officers" in reasons
    code, reasons = refused(services.return_delegation, office, draft.pk, "Rendu.")
    assert code == "not_allowed" and "not delegated" in reasons
    services.delegate(agent, draft.pk)
    code, reasons = refused(services.return_delegation, agent, draft.pk, "Rendu.")  # the commune waits
    assert code == "not_allowed" and "Only the provincial office the dossier is delegated to" in reasons


def test_a_certified_dossier_is_not_delegated(officers, office, draft, signed_pdf):
    manager, agent = officers
    fill(agent, draft, signed_pdf, ["rib"])
    services.submit(agent, draft.pk)
    services.certify(manager, draft.pk)
    code, reasons = refused(services.delegate, agent, draft.pk)
    assert code == "not_allowed" and "before its certification" in reasons


def test_the_office_certifies_a_delegated_dossier_only_once_returned_and_named(officers, office, draft, signed_pdf):
    """Delegation does not make the office a certifier: four eyes and the lock hold together."""
    manager, agent = officers
    fill(agent, draft, signed_pdf, ["rib"])
    services.submit(agent, draft.pk)
    services.delegate(agent, draft.pk)
    code, _ = refused(services.certify, manager, draft.pk)
    assert code == "delegated"
    assert not option(manager, draft, "certify").offered
