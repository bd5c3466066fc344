"""The transmittal slip (bordereau d'envoi, جدول الإرسال) sealed at certification: French and Arabic."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from dossiers import services
from dossiers.models import Certification
from signatures.services import Code, moment, verify_pdf
from tests.dossiers.conftest import BASIC, fill
from tests.dossiers.test_services import open_
from tests.pdftext import lines

pytestmark = pytest.mark.django_db


def test_certification_seals_a_bilingual_slip_listing_every_document(officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, BASIC + ["children_births"])
    services.submit(agent, dossier.pk)
    services.certify(manager, dossier.pk)

    certification = Certification.objects.get(dossier=dossier)
    slip = certification.slip.read()
    assert verify_pdf(slip).code == Code.OK  # sealed by the platform, untouched since
    text = lines(slip)
    collectivity, kind = affiliate.collectivity, dossier.kind
    for expected in (
        "Bordereau d'envoi", "جدول الإرسال",
        "Référence du dossier", "مرجع الملف", str(dossier.reference),
        "Nature du dossier", "نوع الملف", kind.label_fr, kind.label_ar,
        "Affilié", "المنخرط", affiliate.full_name_fr, affiliate.full_name_ar,
        "Numéro d'affiliation", "رقم الانخراط", affiliate.affiliation_number,
        "Numéro de rémunération (PPR)", "رقم التأجير", affiliate.ppr,
        "Collectivité", "الجماعة الترابية", f"{collectivity.name_fr} ({collectivity.code})", collectivity.name_ar,
        "Certifié par", "صادق عليه", "Amina El Idrissi",
        "Certifié le", "تاريخ التصديق", moment(timezone.localtime(certification.certified_at)),
        "Numéro d'envoi", "رقم الإرسال", "Nombre de pièces", "عدد الوثائق", "8",
    ):
        assert expected in text, expected
    documents = list(dossier.documents.select_related("item"))
    assert len(documents) == 8
    joined = " ".join(text)  # an item's label may wrap in its cell
    for document in documents:  # each one's item in both languages, its file name and its digest
        assert document.item.label_fr in joined and document.item.label_ar in joined
        assert {document.original_name, document.sha256} <= set(text)
    assert not any(word in text for word in ("Affilie", "Collectivite", "Certifie par"))


def test_a_family_members_document_names_the_member_in_both_languages(officers, affiliate):
    dossier = open_(officers[1], affiliate)
    item = dossier.kind.items.get(code="children_births")
    child = affiliate.family.get(relation="child")
    document = SimpleNamespace(item=item, member=child, original_name="naissance-salma.pdf", sha256="ab" * 32)
    slip = services.transmittal_slip(dossier, [document], certified_by="Amina El Idrissi",
                                     certified_at=timezone.now())
    text = lines(slip)
    joined = " ".join(text)  # the label wraps in its cell
    assert f"{item.label_fr} — Alaoui Salma" in joined
    assert f"{item.label_ar} — العلوي سلمى" in joined
    assert "ab" * 32 in text
