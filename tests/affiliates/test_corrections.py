"""Correction requests: the officer proposes with a PDF, the CMR accepts or refuses."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from affiliates import services
from affiliates.models import Affiliate, CorrectionRequest, FieldChange
from tests.affiliates.factories import AffiliateFactory
from tests.factories import AgentFactory, CmrAgentFactory, ManagerFactory, other_commune
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

SIGNED = {}


@pytest.fixture(autouse=True)
def signed_proof(pki_settings, signed_pdf):  # noqa: F811
    """Supporting PDFs are signed, as every PDF a collectivity uploads, by one of its officers."""
    AgentFactory(username="AB123456", cin="AB123456")
    SIGNED["pdf"] = signed_pdf(cin="AB123456", text="Acte de naissance")


def pdf(name="acte.pdf", data=None):
    return SimpleUploadedFile(name, SIGNED["pdf"] if data is None else data, content_type="application/pdf")


def propose(client, affiliate, **overrides):
    data = {
        "field": "birth_date",
        "proposed_value": "1975-04-14",
        "reason": "The birth certificate says 14 April.",
        "document": pdf(),
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("affiliates:correction_new", args=[affiliate.pk]), data)


def test_the_whole_exchange(client):
    a = AffiliateFactory()
    officer, cmr = ManagerFactory(), CmrAgentFactory()
    client.force_login(officer)
    response = propose(client, a)
    c = CorrectionRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "affiliates:correction", args=[c.pk]
    )
    assert (c.current_value, c.proposed_value, c.status) == ("1975-03-14", "1975-04-14", "pending")
    assert c.document.read().startswith(b"%PDF-")
    # The CMR agent finds it in his queue and sees the same page.
    client.force_login(cmr)
    queue = client.get(reverse("affiliates:corrections")).content.decode()
    assert "Bennani Fatima" in queue
    page = client.get(reverse("affiliates:correction", args=[c.pk]))
    assert page.context["decision_form"] is not None
    assert (
        client.get(reverse("affiliates:correction_document", args=[c.pk]))["Content-Type"]
        == "application/pdf"
    )
    client.post(
        reverse("affiliates:correction_decide", args=[c.pk]), {"decision": "accept", "reason": "ok"}
    )
    a.refresh_from_db()
    c.refresh_from_db()
    assert a.birth_date == date(1975, 4, 14) and c.status == "accepted" and c.decided_by == cmr
    change = FieldChange.objects.get()
    assert (change.field, change.old_value, change.new_value) == (
        "birth_date",
        "1975-03-14",
        "1975-04-14",
    )
    # The officer sees the outcome, on the same page as the CMR, and on the situation page.
    client.force_login(officer)
    body = client.get(reverse("affiliates:correction", args=[c.pk])).content.decode()
    # The registry's values as French writes dates, never ISO.
    assert "Acceptée : le registre a été mis à jour." in body and "14 mars 1975" in body
    assert "1975-03-14" not in body.split("<main", 1)[1]
    assert (
        client.get(reverse("affiliates:correction", args=[c.pk])).context["decision_form"] is None
    )
    assert list(
        AuditEvent.objects.filter(action__startswith="affiliate.correction")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["affiliate.correction_requested", "affiliate.correction_accepted"]


def test_a_refusal_needs_a_reason_and_changes_nothing(client):
    a = AffiliateFactory()
    client.force_login(ManagerFactory())
    propose(client, a, field="last_name_fr", proposed_value="Benani")
    c = CorrectionRequest.objects.get()
    cmr = CmrAgentFactory()
    with pytest.raises(services.CorrectionError):
        services.refuse_correction(cmr, c.pk, reason="  ")
    services.refuse_correction(cmr, c.pk, reason="The civil status record says Bennani.")
    a.refresh_from_db()
    c.refresh_from_db()
    assert (
        a.last_name_fr == "Bennani" and c.status == "refused" and not FieldChange.objects.exists()
    )
    with pytest.raises(services.CorrectionError):
        services.accept_correction(cmr, c.pk)  # already answered


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"document": None}, "document", "Joignez la pièce justificative"),
        (
            {"document": pdf("photo.pdf", b"\x89PNG\r\n\x1a\n fake image")},
            "document",
            "pas un fichier PDF",
        ),
        (
            {"document": pdf("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"%%EOF")},
            "document",
            "dépasse 10 Mo",
        ),
        ({"proposed_value": "1975-02-30"}, "proposed_value", "pas une date : choisissez-la dans le calendrier"),
        ({"proposed_value": "1975-03-14"}, "proposed_value", "figure déjà dans le registre"),
        ({"field": "cin", "proposed_value": "ABC1234567"}, "proposed_value", "est pas une CIN"),
    ],
)
def test_bad_requests_get_a_clear_message_and_write_nothing(client, overrides, field, message):
    a = AffiliateFactory()
    client.force_login(ManagerFactory())
    response = propose(client, a, **overrides)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not CorrectionRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="affiliate.correction").exists()


@pytest.mark.parametrize(("signer", "message"), [
    (None, "ne porte aucune signature"),  # not signed
    ("CD789012", "pas par la personne attendue"),  # signed, by no officer of this commune
    ("EE345678", "révoqué"),  # signed by a revoked certificate
])
def test_a_proof_not_signed_by_an_officer_of_the_commune_is_refused(client, signed_pdf, signer, message):  # noqa: F811
    a = AffiliateFactory()
    client.force_login(ManagerFactory())
    data = sample_pdf("Acte de naissance") if signer is None else signed_pdf(cin=signer, text="Acte de naissance")
    response = propose(client, a, document=pdf(data=data))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["document"])
    assert not CorrectionRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="affiliate.correction").exists()


def test_a_field_that_cannot_be_corrected_is_not_offered(client):
    a = AffiliateFactory()
    client.force_login(ManagerFactory())
    response = propose(client, a, field="collectivity")
    assert response.status_code == 200 and response.context["form"] is None
    assert "Choisissez ce qu&#x27;il faut corriger." in response.content.decode()
    assert not CorrectionRequest.objects.exists()
    with pytest.raises(services.CorrectionError) as refused:  # the API's path: the same service
        services.request_correction(AgentFactory(), a.pk, field="collectivity", proposed_value="x",
                                    reason="r", document=pdf())
    assert "collectivity" not in str(refused.value) and "field" in refused.value.errors


def test_a_day_first_date_is_read_as_written_here(client):
    """Typed without the calendar (an old browser), a date is read day first, never month first."""
    a = AffiliateFactory()
    client.force_login(ManagerFactory())
    client.cookies["django_language"] = "ar"
    assert propose(client, a, proposed_value="04/05/1975").status_code == 302
    assert CorrectionRequest.objects.get().proposed_value == "1975-05-04"


def test_one_pending_request_per_field(client):
    a = AffiliateFactory()
    client.force_login(ManagerFactory())
    propose(client, a)
    response = propose(client, a, proposed_value="1975-05-14")
    assert "déjà en attente de la CMR" in str(response.context["form"].errors)
    assert CorrectionRequest.objects.count() == 1


def test_scoping_of_requests_and_decisions(client):
    elsewhere = AffiliateFactory(collectivity=other_commune())
    client.force_login(ManagerFactory())
    assert propose(client, elsewhere).status_code == 404
    assert not CorrectionRequest.objects.exists()
    mine = AffiliateFactory()
    propose(client, mine)
    c = CorrectionRequest.objects.get()
    # An officer of another commune cannot see it; an officer cannot decide.
    client.force_login(ManagerFactory(collectivity=other_commune()))
    assert client.get(reverse("affiliates:correction", args=[c.pk])).status_code == 404
    assert client.get(reverse("affiliates:correction_document", args=[c.pk])).status_code == 404
    client.force_login(AgentFactory())
    client.post(reverse("affiliates:correction_decide", args=[c.pk]), {"decision": "accept"})
    c.refresh_from_db()
    assert c.status == "pending"


def test_a_cin_taken_by_another_affiliate_cannot_be_accepted(client):
    a, b = AffiliateFactory(), AffiliateFactory()
    client.force_login(ManagerFactory())
    propose(client, a, field="cin", proposed_value=b.cin.lower())
    c = CorrectionRequest.objects.get()
    with pytest.raises(services.CorrectionError):
        services.accept_correction(CmrAgentFactory(), c.pk)
    assert Affiliate.objects.get(pk=a.pk).cin != b.cin


def test_name_correction_updates_the_search(client):
    a = AffiliateFactory()
    manager = ManagerFactory()
    client.force_login(manager)
    propose(client, a, field="last_name_fr", proposed_value="Zerouali")
    services.accept_correction(CmrAgentFactory(), CorrectionRequest.objects.get().pk)
    a.refresh_from_db()
    assert a.search_fr.startswith("zerouali")
    from affiliates.selectors import search_affiliates

    assert [p.pk for p in search_affiliates(manager, "Zerouali").results] == [a.pk]
