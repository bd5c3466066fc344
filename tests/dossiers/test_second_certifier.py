"""Four eyes that every council can meet: a council with a single officer names a second certifier for
the dossier (another of its officers who may certify, or its provincial office's certifier), recorded on
the dossier, in its timeline and the audit log; the named person may certify (a provincial office "on
behalf of" the commune), nobody may be named who could not, each refusal explained, and the submitter
is never offered "Certify"."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from accounts.models import AuditEvent
from dossiers import services, transitions
from dossiers.models import Dossier
from tests.dossiers.conftest import BASIC, fill
from tests.dossiers.test_next_step import step
from tests.dossiers.test_transitions import option, refused, state
from tests.factories import AgentFactory, ManagerFactory, ProvincialOfficeFactory, other_commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def alone(pki_settings):
    """Tanger's manager, the council's single officer: he prepares, signs and submits its dossiers."""
    return ManagerFactory(username="AB123456", cin="AB123456", full_name="Amina El Idrissi")


@pytest.fixture
def office():
    """The provincial office of Tanger-Assilah, its certifier granted the right to certify."""
    return ProvincialOfficeFactory(full_name="Rachid Office", can_certify_dossiers=True)


@pytest.fixture
def submitted(alone, affiliate, signed_pdf):
    dossier = services.open_dossier(alone, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(alone, dossier, signed_pdf, BASIC, signer="AB123456")
    services.submit(alone, dossier.pk)
    return Dossier.objects.get(pk=dossier.pk)


def test_a_single_officer_council_cannot_certify_without_naming(client, alone, office, submitted):
    code, reasons = refused(services.certify, alone, submitted.pk)
    assert code == "four_eyes" and "may not certify it too" in reasons
    # its provincial office, though it may certify, does not certify a commune's dossier unnamed
    code, reasons = refused(services.certify, office, submitted.pk)
    assert code == "not_named" and "only when the commune has named it" in reasons
    assert option(alone, submitted, "certify").who == ()  # nobody may certify it now
    client.force_login(alone)
    page = client.get(reverse("dossiers:detail", args=[submitted.pk]), HTTP_ACCEPT_LANGUAGE="en").content
    assert b'data-testid="action-certify"' not in page
    assert 'data-testid="step-name-second-certifier"' in step(page, "certify")  # the way out, said
    assert b'data-testid="name-second-certifier"' in page and b"Rachid Office" in page  # offered as a name
    assert state(submitted) == "awaiting_certification"


def test_the_council_names_its_provincial_office_which_certifies_on_behalf(client, alone, office, submitted):
    services.name_second_certifier(alone, submitted.pk, office.pk)
    dossier = Dossier.objects.get(pk=submitted.pk)
    assert dossier.second_certifier == office
    named = dossier.events.get(action="second_certifier_named")
    assert named.actor == alone and named.data["account"] == office.pk
    assert AuditEvent.objects.filter(action="dossier.second_certifier_named", actor=alone,
                                     target_id=str(dossier.pk)).exists()
    # the next step names him; the submitter is still not offered "Certify"
    assert option(alone, dossier, "certify").who == ("Rachid Office",)
    client.force_login(alone)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="en").content
    assert b'data-testid="action-certify"' not in page and "Rachid Office" in step(page, "certify")
    assert b'data-testid="second-certifier"' in page
    # he sees the button and certifies, "on behalf of" the commune
    client.force_login(office)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="en").content
    assert b'data-testid="action-certify"' in page and 'data-allowed="1"' in step(page, "certify")
    response = client.post(reverse("dossiers:act", args=[dossier.pk, "certify"]), {"confirmed": "1"}, follow=True)
    assert response.status_code == 200
    dossier.refresh_from_db()
    assert dossier.state == "certified" and dossier.certified_by == office
    certified = dossier.events.get(action="certify")
    assert certified.actor == office and certified.on_behalf_of == dossier.collectivity
    assert AuditEvent.objects.get(action="dossier.certify", target_id=str(dossier.pk)).on_behalf_of == \
        dossier.collectivity
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with translation.override("fr"):
        behalf = translation.gettext("on behalf of %(c)s") % {"c": dossier.collectivity.council_label}
    assert escape(behalf) in page.split('data-action="certify"')[1].split("</li>")[0]


def test_another_officer_who_may_certify_can_be_named(alone, submitted):
    president = AgentFactory(full_name="Le Président", can_certify_dossiers=True)
    services.name_second_certifier(alone, submitted.pk, president.pk)
    assert option(president, submitted, "certify").allowed
    assert services.certify(president, submitted.pk).certified_by == president


@pytest.mark.parametrize("who, why", [
    ("office without the right", "may not certify dossiers"),
    ("office of another province", "neither an officer of this council nor of its provincial office"),
    ("agent of another commune", "neither an officer of this council nor of its provincial office"),
    ("disabled officer", "account is disabled"),
    ("officer not activated", "has not activated his account yet"),
    ("officer without the right", "may not certify dossiers"),
    ("the submitter", "You may not name yourself"),
])
def test_an_ineligible_person_cannot_be_named(alone, submitted, who, why):
    elsewhere = other_commune()
    candidate = {
        "office without the right": lambda: ProvincialOfficeFactory(),
        "office of another province": lambda: ProvincialOfficeFactory(collectivity=elsewhere.province,
                                                                      can_certify_dossiers=True),
        "agent of another commune": lambda: AgentFactory(collectivity=elsewhere, can_certify_dossiers=True),
        "disabled officer": lambda: AgentFactory(is_active=False, can_certify_dossiers=True),
        "officer not activated": lambda: AgentFactory(password="", can_certify_dossiers=True),
        "officer without the right": lambda: AgentFactory(can_prepare_dossiers=True),
        "the submitter": lambda: alone,
    }[who]()
    if who == "officer not activated":
        candidate.set_unusable_password()
        candidate.save()
    code, reasons = refused(services.name_second_certifier, alone, submitted.pk, candidate.pk)
    assert code == "not_eligible" and why in reasons, reasons
    assert Dossier.objects.get(pk=submitted.pk).second_certifier is None
    assert candidate not in transitions_candidates(submitted)  # nor offered on the page


def transitions_candidates(dossier):
    return services.selectors.second_certifier_candidates(Dossier.objects.get(pk=dossier.pk))


def test_the_submitter_cannot_be_named_by_another(alone, submitted, office):
    other = AgentFactory(can_prepare_dossiers=True)
    code, reasons = refused(services.name_second_certifier, other, submitted.pk, alone.pk)
    assert code == "not_eligible" and "submitted the dossier" in reasons


def test_who_names_and_when(alone, office, submitted):
    # an office does not name itself; nor may anyone once the dossier is certified
    code, reasons = refused(services.name_second_certifier, office, submitted.pk, office.pk)
    assert code == "not_allowed" and "council's own officers" in reasons
    services.name_second_certifier(alone, submitted.pk, office.pk)
    services.certify(office, submitted.pk)
    code, reasons = refused(services.name_second_certifier, alone, submitted.pk, None)
    assert code == "not_allowed" and "before the certification" in reasons


def test_withdrawing_the_name_and_a_bad_choice_through_the_page(client, alone, office, submitted):
    client.force_login(alone)
    url = reverse("dossiers:second_certifier", args=[submitted.pk])
    for hostile in ("999999", "²", "1e3", "9" * 40, "-1"):  # never a 500: the same plain refusal
        response = client.post(url, {"certifier": hostile}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 200
        with translation.override("fr"):
            assert escape(translation.gettext("Choose the second certifier among the accounts offered.")) in \
                response.content.decode()
    client.post(url, {"certifier": office.pk})
    assert Dossier.objects.get(pk=submitted.pk).second_certifier == office
    client.post(url, {"certifier": ""})
    assert Dossier.objects.get(pk=submitted.pk).second_certifier is None
    assert Dossier.objects.get(pk=submitted.pk).events.filter(action="second_certifier_withdrawn").exists()
    code, _reasons = refused(services.certify, office, submitted.pk)
    assert code == "not_named"  # withdrawn: he may no longer certify it


def test_the_four_eyes_words_in_french_and_arabic(client, alone, office, submitted):
    services.name_second_certifier(alone, submitted.pk, office.pk)
    client.force_login(alone)
    for language in ("fr", "ar"):
        page = client.get(reverse("dossiers:detail", args=[submitted.pk]), HTTP_ACCEPT_LANGUAGE=language).content
        with translation.override(language):
            why = translation.gettext("The officer who submitted the dossier may not certify it too: another "
                                      "officer with certifying authority must do it.")
        assert escape(why) in step(page, "certify") and "Rachid Office" in step(page, "certify")
    assert not transitions.naming_problems(alone, submitted)


def test_a_provincial_council_is_not_offered_the_office_s_accounts_as_its_officers():
    """The office's accounts sit on the province's row, but they act for its communes: for the provincial
    council's own dossier they are neither its officers nor its second certifier."""
    from accounts.models import Collectivity
    from dossiers import selectors, transitions
    from dossiers.models import Dossier, DossierKind
    from tests.affiliates.factories import AffiliateFactory
    from tests.factories import ManagerFactory, ProvincialOfficeFactory

    province = Collectivity.objects.get(code="01.511")
    office = ProvincialOfficeFactory(can_certify_dossiers=True, collectivity=province)
    council_officer = ManagerFactory(collectivity=province)
    affiliate = AffiliateFactory(collectivity=province)
    dossier = Dossier.objects.create(kind=DossierKind.objects.get(code="death"), affiliate=affiliate,
                                     collectivity=province, created_by=council_officer, state="draft")
    assert office not in selectors.officers_of(province)
    assert office not in selectors.second_certifier_candidates(dossier)
    assert transitions.second_certifier_problems(dossier, office, by=council_officer)
