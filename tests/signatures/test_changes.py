"""The policy of what may follow a signature (signatures.changes.PERMITTED): each class of change with a
genuine file that shows it permitted and a forged one that it does not excuse; the signer's name; and
hostile structures that the difference analysis must survive and refuse."""

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from signatures import changes
from signatures.names import names_match
from signatures.services import Code, verify_pdf
from tests.pki import sample_pdf

from . import forge
from .corpus import cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pki_settings")]

K = changes.Kind
# For each permitted class: (a genuine file where it is listed as permitted, a forged file it must not excuse).
POLICY_PAIRS = {
    K.VALIDATION_DATA: ("b-b-then-validation-data-then-timestamp", "validation-data-and-content-in-one-update"),
    K.DOCUMENT_TIMESTAMP: ("timestamp-by-other-product", "timestamp-over-content-change"),
    K.METADATA: ("properties-after-signing-pypdf", "properties-and-rotation-in-one-update"),
    K.STRUCTURE: ("tab-order-after-approval", "certified-p1-then-tab-order"),
    K.SIGNATURE_ADDED: ("two-invisible-fpdf", "certified-p1-then-signature"),
    K.FORM_FILLED: ("fill-empty-field-pypdf", "lock-visa-fill-visa"),
    K.COMMENT_ADDED: ("sticky-note-pypdf", "certified-p2-then-note"),
    K.ANNOTATION_CHANGED: ("certified-p3-then-note-and-free-text", "free-text-after-approval"),
}


def test_every_permitted_class_has_a_genuine_and_a_forged_file():
    assert set(POLICY_PAIRS) == set(changes.PERMITTED)


@pytest.mark.parametrize("kind", list(POLICY_PAIRS), ids=str)
def test_policy_pair(pki, kind):
    genuine, forged = (cases.by_name(name) for name in POLICY_PAIRS[kind])
    report = verify_pdf(genuine.make(pki))
    assert report.code == Code.OK, (genuine.name, report.detail)
    assert any(c["kind"] == kind and c["permitted"] for s in report.signatures for c in s.changes_after)
    report = verify_pdf(forged.make(pki))
    assert report.code == Code.MODIFIED_AFTER_SIGNING, (forged.name, report.code)
    assert report.reason == "changed" and str(report.message)


@pytest.mark.parametrize(("kind", "docmdp", "allowed"), [
    (K.FORM_FILLED, None, True), (K.FORM_FILLED, 1, False), (K.FORM_FILLED, 2, True),
    (K.COMMENT_ADDED, None, True), (K.COMMENT_ADDED, 2, False), (K.COMMENT_ADDED, 3, True),
    (K.ANNOTATION_CHANGED, None, False), (K.ANNOTATION_CHANGED, 3, True),
    (K.SIGNATURE_ADDED, 1, False), (K.VALIDATION_DATA, 1, True), (K.PAGE_CONTENT, 3, False),
    (K.ACTIVE_CONTENT, None, False), (K.FIELD_VALUE_REPLACED, None, False),
])
def test_judge(kind, docmdp, allowed):
    ((_, permitted),) = changes.judge([changes.Change(kind, "x")], docmdp=docmdp)
    assert permitted is allowed


def test_a_lock_forbids_what_the_table_allows():
    fill = changes.Change(K.FORM_FILLED, "field visa", field="visa", lockable=True)
    ((change, permitted),) = changes.judge([fill], docmdp=None, is_locked=lambda name: name == "visa")
    assert not permitted and change.kind == K.LOCKED_FIELD_CHANGED
    ((_, permitted),) = changes.judge([fill], docmdp=None, is_locked=lambda name: False)
    assert permitted


def test_the_report_names_what_came_after_each_signature(pki):
    from django.template.loader import render_to_string
    from django.utils import translation

    report = verify_pdf(cases.load(pki, "fill-then-second-signature"), signer_must_be="AB123456")
    first, second = report.signatures
    assert {str(label) for label in first.change_labels} >= {"formulaire rempli", "signature ajoutée"}
    with translation.override("ar"):
        html = render_to_string("signatures/_report.html", {"report": report})
        assert "مُلئت الاستمارة" in html and "وقَّع بعده" in html
    with translation.override("fr"):
        html = render_to_string("signatures/_report.html", {"report": report})
    assert "Signé après par" in html and "Youssef Benali" in html and "Signé avant par" in html


@pytest.mark.parametrize(("certificate", "account", "same"), [
    ("Amina El Idrissi", "Amina El Idrissi", True),
    ("EL IDRISSI AMINA", "Amina El Idrissi", True),
    ("Amina El Idrissi", "Amina El-Idrissi", True),
    ("أمينة الإدريسي", "Amina El Idrissi", True),
    ("Mohammed Bennani", "Mohamed Benani", True),
    ("محمد العلوي", "Mohamed Alaoui", True),
    ("Fatima-Zahra Chraïbi", "فاطمة الزهراء الشرايبي", True),
    ("Karim Tazi", "Karim Tazi Benjelloun", True),
    ("Mohamed Alaoui", "Mohamed Alami", False),
    ("Youssef Benali", "Amina El Idrissi", False),
    ("Amina", "Amina El Idrissi", False),
    ("Nadia Alaoui", "Nadia Tazi", False),
    ("", "Amina El Idrissi", False),
])
def test_certificate_and_account_names(certificate, account, same):
    assert names_match(certificate, account) is same


# --- hostile structures: never raise, never accept -------------------------------------------------------


def _update(data, change):
    return forge.update(data, change)


def _page_tree_loop(data):
    def change(w):
        pages = w.root["/Pages"]
        pages["/Kids"].append(w.root.raw_get("/Pages"))
        w.mark_update(w.root.raw_get("/Pages"))
    return _update(data, change)


def _deep_array(data, depth=5000):
    """A new catalogue with an array nested thousands deep (no writer writes it: bytes by hand)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    root_ref = reader.trailer.raw_get("/Root")
    out = io.BytesIO()
    reader.root.write_to_stream(out)
    catalog = out.getvalue().rstrip()[:-2] + b" /Deep " + b"[" * depth + b"]" * depth + b" >>"
    prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    offset = len(data)
    body = b"%d 0 obj\n%s\nendobj\n" % (root_ref.idnum, catalog)
    return data + body + (b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n"
                          b"startxref\n%d\n%%%%EOF\n" % (root_ref.idnum, offset, int(reader.trailer["/Size"]),
                                                        root_ref.idnum, prev, offset + len(body)))


def _reference_loop(data):
    def change(w):
        a = w.add_object(generic.NullObject())
        b = w.add_object(generic.DictionaryObject({pdf_name("/Next"): a}))
        w.objects[(a.generation, a.idnum)] = generic.DictionaryObject({pdf_name("/Next"): b})
        w.root[pdf_name("/Loop")] = a
        w.update_root()
    return _update(data, change)


@pytest.mark.parametrize("attack", [_page_tree_loop, _deep_array, _reference_loop])
def test_hostile_updates_are_refused_without_error(pki, attack):
    from .corpus import documents

    signed = pki.sign(documents.classic(), "AB123456")
    report = verify_pdf(attack(signed))
    assert not report.accepted and report.code in Code


def test_a_document_too_large_to_compare_is_refused(pki, monkeypatch):
    both = pki.sign(pki.sign(sample_pdf(), "AB123456"), "CD789012")
    monkeypatch.setattr(changes, "MAX_OBJECTS", 5)
    report = verify_pdf(both)
    assert report.code == Code.MODIFIED_AFTER_SIGNING
    assert any(c["kind"] == "unanalysable" for c in report.signatures[0].changes_after)


def test_comparison_reads_each_revision_as_it_was(pki):
    """A page rewritten by a later update is read from the signed revision, not the newest one."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signed = pki.sign(sample_pdf(), "AB123456")
    data = forge.replace_text(signed)
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    found = changes.changes_after(reader, reader.embedded_signatures[0].signed_revision)
    assert [c.kind for c in found] == [K.PAGE_CONTENT]
