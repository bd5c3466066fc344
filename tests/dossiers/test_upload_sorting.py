"""Several signed PDFs sent at once without their lines (the bulk form without its script, or the API
client that does not say): the server sorts each by its PDF title or file name, and refuses the one it
cannot tell with a message saying what to do. A file the dossier already has is refused before any
verification, saying where it is; a document signed by someone else names who signed and who was
expected (name and CIN), in French and in Arabic."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from dossiers import services
from dossiers.models import Document
from signatures.metadata import pdf_title

pytestmark = pytest.mark.django_db


def open_(user, affiliate, code="age_limit"):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code=code)


def post(client, dossier, files, item="", lang="fr"):
    uploads = [SimpleUploadedFile(name, data, "application/pdf") for name, data in files]
    return client.post(reverse("dossiers:upload", args=[dossier.pk]), {"item": item, "files": uploads},
                       HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE=lang)


def test_files_without_their_line_are_sorted_by_title_or_name(client, officers, affiliate, signed_pdf):
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    by_title = signed_pdf(cin="CD789012", text="Acte de mariage")
    assert pdf_title(by_title) == "Acte de mariage"  # the title survives the signature
    answer = post(client, dossier, [
        ("scan0001.pdf", by_title),  # its title tells
        ("شهادة_التعريف_البنكي.pdf", signed_pdf(cin="CD789012", text="Attestation de travail")),  # its name tells
        ("scan0002.pdf", signed_pdf(cin="CD789012", text="Attestation de travail")),  # neither
    ])
    results = {r["file"]: r for r in answer.json()["results"]}
    assert results["scan0001.pdf"]["accepted"] and results["scan0001.pdf"]["line"] == "marriage"
    assert results["شهادة_التعريف_البنكي.pdf"]["line"] == "rib"
    unsorted = results["scan0002.pdf"]
    assert not unsorted["accepted"] and unsorted["code"] == "unsorted"
    assert "choisissez la pièce" in unsorted["message"]
    assert dict(Document.objects.values_list("original_name", "item__code")) == {
        "scan0001.pdf": "marriage", "شهادة_التعريف_البنكي.pdf": "rib"}


def test_the_officers_choice_is_checked_again(client, officers, affiliate, signed_pdf):
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    answer = post(client, dossier, [("rib.pdf", signed_pdf(cin="CD789012", text="RIB"))], item="death_certificate")
    assert answer.status_code == 400 and answer.json()["results"][0]["code"] == "unknown_item"
    assert not Document.objects.exists()


@pytest.mark.parametrize("lang, words, label", [
    ("fr", "a déjà été reçu pour ce dossier", "Attestation de RIB"),
    ("ar", "سبق استلام هذه الوثيقة", "شهادة التعريف البنكي"),
])
def test_a_file_already_received_is_refused_before_its_verification(client, officers, affiliate, signed_pdf,
                                                                    monkeypatch, lang, words, label):
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    data = signed_pdf(cin="CD789012", text="RIB")
    assert post(client, dossier, [("rib-mars.pdf", data)], item="rib").status_code == 200

    def never(*args, **kwargs):
        raise AssertionError("a file already received is verified again")
    monkeypatch.setattr(services, "check_officer_signature", never)
    again = post(client, dossier, [("copie.pdf", data)], item="cin", lang=lang)
    result = again.json()["results"][0]
    assert again.status_code == 400 and result["code"] == "duplicate"
    assert words in result["message"] and "rib-mars.pdf" in result["message"] and label in result["message"]
    with translation.override(lang):  # the service says the same to the API and the page
        with pytest.raises(services.DossierError) as refused:
            services.add_document(agent, dossier.pk, item_code="cin", data=data, filename="x.pdf")
        assert words in str(refused.value.reasons[0])
    assert Document.objects.count() == 1


@pytest.mark.parametrize("lang, words", [
    ("fr", "mais pas par la personne attendue"),
    ("ar", "لكن ليس من طرف الشخص المنتظر"),
])
def test_the_wrong_signer_is_named_with_the_one_expected(client, officers, affiliate, signed_pdf, lang, words):
    manager, agent = officers
    User.objects.filter(pk=manager.pk).update(is_active=False)  # Amina may no longer sign for Tanger
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    answer = post(client, dossier, [("rib.pdf", signed_pdf(cin="AB123456", text="RIB"))], item="rib", lang=lang)
    result = answer.json()["results"][0]
    assert result["code"] == "SIGNER_NOT_AUTHORISED"
    message = result["message"]
    assert words in message
    assert "Amina El Idrissi (AB123456)" in message  # who signed: the certificate's name and CIN
    assert "Youssef Benali (CD789012)" in message  # who may
    assert not Document.objects.exists()


def test_the_page_gives_its_script_what_it_needs(client, officers, affiliate, signed_pdf):
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    document, _ = services.add_document(agent, dossier.pk, item_code="rib", filename="rib.pdf",
                                        data=signed_pdf(cin="CD789012", text="RIB"))
    client.force_login(agent)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert f'data-received="{document.sha256}"' in page
    assert 'data-testid="bulk-upload"' in page and 'data-line-key="marriage"' in page
    assert "data-msg-lost=" in page and "data-msg-verifying=" in page
    assert "<script>" not in page and "htmx" not in page  # no inline script; htmx only where it is used
    assert 'rel="icon"' in page
