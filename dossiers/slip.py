"""The transmittal slip (bordereau d'envoi, جدول الإرسال) a certification issues: bilingual, listing each
document of the sending with its SHA-256 digest, sealed by the platform."""

from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from signatures.services import IssuedDocument, Table, moment, render_pdf, seal_document


def _in_both_languages(text) -> tuple[str, str]:
    """A message in French and in Arabic: the slip is bilingual, whatever the reader's language."""
    with translation.override("fr"):
        french = capfirst(str(text))
    with translation.override("ar"):
        return french, str(text)


def transmittal_slip(dossier, documents, *, certified_by: str, certified_at, sealed: bool = True) -> bytes:
    """The bordereau d'envoi (جدول الإرسال), in French and Arabic: the dossier, the affiliate, the
    collectivity, who certified and when, and each document with its SHA-256 digest; sealed by the platform
    (``sealed=False``: unsigned, to be signed first by the certifier's token, then sealed)."""
    affiliate, collectivity, kind = dossier.affiliate, dossier.collectivity, dossier.kind

    def row(label, value):
        french, arabic = _in_both_languages(label)
        return french, str(value), arabic

    def item(document):
        french, arabic = document.item.label_fr, document.item.label_ar
        if document.member:
            return f"{french} — {document.member.full_name_fr}", f"{arabic} — {document.member.full_name_ar}"
        return french, arabic

    title, title_ar = _in_both_languages(_("Transmittal slip"))
    item_fr, item_ar = _in_both_languages(_("item"))
    file_name = " / ".join(_in_both_languages(_("file name")))
    certified_at = timezone.localtime(certified_at)
    document = IssuedDocument(
        title=title, title_ar=title_ar,
        reference=f"{dossier.short_reference}-{dossier.round}",
        issued_at=certified_at,
        fields=[
            row(_("Dossier reference"), dossier.reference),
            row(_("Dossier kind"), kind.label_fr), ("", kind.label_ar, ""),
            row(_("affiliate"), affiliate.full_name_fr), ("", affiliate.full_name_ar, ""),
            row(_("affiliation number"), affiliate.affiliation_number),
            row(_("payroll number (PPR)"), affiliate.ppr),
            row(_("collectivity"), f"{collectivity.name_fr} ({collectivity.code})"), ("", collectivity.name_ar, ""),
            row(_("certified by"), certified_by),
            row(_("certified at"), moment(certified_at)),
            row(_("Sending number"), dossier.round),
            row(_("Number of documents"), len(documents)),
        ],
        table=Table(
            headings=["N°", item_fr, item_ar, f"{file_name}\nSHA-256"],
            rows=[[str(n), *item(d), f"{d.original_name}\n{d.sha256}"] for n, d in enumerate(documents, 1)],
            widths=(20, 100, 100, 291), small=(3,),
        ),
        paragraphs=list(_in_both_languages(_(
            "The documents listed above, identified by their SHA-256 fingerprints, make up this sending of the "
            "dossier, certified by the collectivity. This slip is sealed by the e-retraite platform: any change "
            "to it breaks the seal."))),
    )
    return seal_document(document) if sealed else render_pdf(document)
