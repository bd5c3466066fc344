"""Whose signature counts on a dossier's document: an active, activated officer of the collectivity whose
certificate bears his CIN and his name, or the provincial office uploading for one of its communes
(recorded "on behalf of" that commune). Anything else is refused with the signer and the expected
officers named, and nothing is kept."""

import pytest
from django.utils import translation

from accounts.models import User
from dossiers import services
from dossiers.models import Document, Dossier
from tests.factories import AgentFactory, ManagerFactory, ProvincialOfficeFactory
from tests.pki import sample_pdf

from .conftest import BASIC, fill

pytestmark = pytest.mark.django_db


def open_(user, affiliate, code="age_limit"):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code=code)


def upload(user, dossier, data, item="rib", **kwargs):
    return services.add_document(user, dossier.pk, item_code=item, filename=f"{item}.pdf", data=data, **kwargs)


@pytest.mark.parametrize("make_pending", [
    lambda user: user.set_unusable_password(),  # created by the designation import, never activated
    lambda user: setattr(user, "is_active", False),  # disabled by his manager
])
def test_a_pending_or_disabled_officer_never_signs(officers, affiliate, signed_pdf, make_pending):
    manager, agent = officers
    make_pending(manager)
    manager.save()
    dossier = open_(agent, affiliate)
    document, report = upload(agent, dossier, signed_pdf(cin="AB123456"))
    assert document is None and report.code == "SIGNER_NOT_AUTHORISED" and report.reason == "not_expected"
    with translation.override("fr"):
        message = str(report.message)
    assert "Amina El Idrissi" in message and "Youssef Benali" in message  # who signed, who may
    assert "pas par la personne attendue" in message
    assert not Document.objects.exists()


def test_only_activated_officers_make_the_expected_list(officers, affiliate, signed_pdf):
    manager, agent = officers
    pending = AgentFactory(full_name="Agent En Attente")
    pending.set_unusable_password()
    pending.save()
    dossier = open_(agent, affiliate)
    _, report = upload(agent, dossier, signed_pdf(cin="AB123456", text="x"))
    assert report.accepted
    User.objects.filter(pk=manager.pk).update(is_active=False)
    _, report = upload(agent, dossier, signed_pdf(cin="AB123456", text="y"), item="cin")
    with translation.override("fr"):
        message = str(report.message)
    assert "Agent En Attente" not in message and "Youssef Benali" in message


def test_the_certificate_must_bear_the_account_holders_name(officers, affiliate, signed_pdf):
    manager, agent = officers
    User.objects.filter(pk=manager.pk).update(full_name="Karim Tazi")  # the CIN typed into another's account
    dossier = open_(agent, affiliate)
    document, report = upload(agent, dossier, signed_pdf(cin="AB123456"))
    assert document is None and report.code == "SIGNER_NOT_AUTHORISED" and report.reason == "name_mismatch"
    with translation.override("ar"):
        message = str(report.message)
    assert "Karim Tazi" in message and "Amina El Idrissi" in message and "AB123456" in message


@pytest.mark.parametrize("account_name", ["EL IDRISSI Amina", "Amina El-Idrissi", "أمينة الإدريسي", "Amina Idrissi"])
def test_the_name_may_be_written_otherwise(officers, affiliate, signed_pdf, account_name):
    manager, agent = officers
    User.objects.filter(pk=manager.pk).update(full_name=account_name)
    dossier = open_(agent, affiliate)
    document, report = upload(agent, dossier, signed_pdf(cin="AB123456"))
    assert document is not None, report.detail
    assert document.signer_account_id == manager.pk and document.signed_on_behalf_of is None


def test_a_provincial_office_signs_what_it_uploads_for_its_commune(pki_settings, affiliate, signed_pdf):
    ManagerFactory(username="AB123456", cin="AB123456", full_name="Amina El Idrissi")
    office = ProvincialOfficeFactory(username="CD789012", cin="CD789012", full_name="Youssef Benali")
    dossier = open_(office, affiliate)
    document, report = upload(office, dossier, signed_pdf(cin="CD789012"), on_behalf_of=dossier.collectivity)
    assert document is not None, report.detail
    assert document.signer_account_id == office.pk and document.signed_on_behalf_of == dossier.collectivity
    event = dossier.events.get(action="document_added")
    assert event.data["signed_on_behalf_of"] == dossier.collectivity.pk
    # The commune's own officers may not pass off the provincial office's signature as theirs.
    manager = User.objects.get(cin="AB123456")
    document, report = upload(manager, dossier, signed_pdf(cin="CD789012", text="autre"), item="cin")
    assert document is None and report.code == "SIGNER_NOT_AUTHORISED"


def test_an_officer_disabled_after_upload_stops_the_certification(officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC, signer="CD789012")
    services.submit(agent, dossier.pk)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    problems = services.completeness_problems(Dossier.objects.get(pk=dossier.pk), by=manager)
    assert len([p for p in problems if "Youssef Benali" in str(p)]) == len(BASIC)


def test_a_signature_drawn_over_the_officers_text_is_refused(officers, affiliate, pki):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    signed = pki.sign(sample_pdf("Décision"), "CD789012")
    covered = pki.sign(signed, "AB123456", box=(40, 740, 400, 820))  # over the title, after the agent
    document, report = upload(agent, dossier, covered)
    # The manager signed last: the file counts as his, and what he drew was there when he signed.
    assert document is not None and document.signer_account_id == manager.pk
    User.objects.filter(pk=manager.pk).update(is_active=False)
    document, report = upload(agent, dossier, pki.sign(pki.sign(sample_pdf("Autre"), "CD789012"), "AB123456",
                                                       box=(40, 740, 400, 820)), item="cin")
    assert document is None and report.code == "MODIFIED_AFTER_SIGNING" and report.reason == "covered"
    with translation.override("fr"):
        assert "Youssef Benali" in str(report.message)
