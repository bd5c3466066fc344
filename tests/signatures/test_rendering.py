"""What the platform issues: French and Arabic on the same page, the bundled fonts, shaping, page breaks."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from signatures import rendering
from signatures.rendering import IssuedDocument, Table, render_pdf
from signatures.services import Code, seal_document, verify_pdf
from tests.pdftext import fonts, lines, page_lines, pages, text_objects

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pki_settings")]

ISSUED = dt.datetime(2026, 1, 15, 10, 30, tzinfo=dt.UTC)
A4_WIDTH = 595.28


def bilingual(rows=3):
    return IssuedDocument(
        title="Bordereau d'envoi", title_ar="جدول الإرسال", reference="ABCD1234-1", issued_at=ISSUED,
        fields=[("Affilié", "EL IDRISSI Amina", "المنخرط"), ("", "الإدريسي أمينة", ""),
                ("Collectivité", "Commune de Tanger", "الجماعة الترابية"), ("Montant", "1000 DH")],
        table=Table(["N°", "Pièce", "الوثيقة", "SHA-256"],
                    [[str(n), "Attestation de RIB", "شهادة التعريف البنكي", digest(n)] for n in range(1, rows + 1)],
                    widths=(20, 100, 100, 291), small=(3,)),
        paragraphs=["Scellé par la plateforme.", "مختوم من طرف المنصة."],
    )


def digest(n):
    return hashlib.sha256(str(n).encode()).hexdigest()


def test_sealed_bilingual_document_verifies_and_reads_back_in_both_languages(pki):
    sealed = seal_document(bilingual())
    assert verify_pdf(sealed).code == Code.OK
    text = lines(sealed)
    for expected in ("Bordereau d'envoi", "جدول الإرسال", "Affilié", "المنخرط", "الإدريسي أمينة", "Collectivité",
                     "الجماعة الترابية", "شهادة التعريف البنكي", "مختوم من طرف المنصة.", "Montant", "1000 DH"):
        assert expected in text, expected
    # the French label, the value and the Arabic label of a row, in that order
    assert text.index("Affilié") < text.index("EL IDRISSI Amina") < text.index("المنخرط")


def test_arabic_is_drawn_right_to_left_and_aligned_right():
    data = render_pdf(IssuedDocument("Titre", "R-1", ISSUED, fields=[("Affilié", "Amina", "المنخرط")],
                                     paragraphs=["Fin.", "مختوم من طرف المنصة."]))
    drawn = {"".join(t for _x, t in glyphs): glyphs for glyphs in text_objects(data)}
    label = drawn["المنخرط"[::-1]]  # drawn from its last letter (leftmost) to its first (rightmost)
    assert [t for _x, t in sorted(label, reverse=True)] == list("المنخرط")
    assert min(x for x, _t in label) > A4_WIDTH / 2 > max(x for x, _t in drawn["Affilié"])
    paragraph = drawn["مختوم من طرف المنصة."[::-1]]
    assert min(x for x, _t in paragraph) > max(x for x, _t in drawn["Fin."])  # French left, Arabic right


def test_arabic_letters_are_shaped():
    """One letter, three contextual forms (initial, medial, final): three glyphs; lam-alef is one ligature."""
    data = render_pdf(IssuedDocument("ببب", "R-1", ISSUED, paragraphs=["لا"]))
    to_unicode = {}
    for font in fonts(pages(data)[0]).values():
        to_unicode.update({(font.name, code): text for code, text in font.to_unicode.items()})
    assert sum(text == "ب" for text in to_unicode.values()) == 3
    assert "لا" in to_unicode.values()  # the ligature glyph stands for both letters
    assert {"ببب", "لا"} <= set(lines(data))


def test_fonts_are_the_bundled_dejavu_embedded_with_a_unicode_map():
    assert Path(rendering.FONTS).is_relative_to(Path(__file__).resolve().parents[2])
    assert {p.name for p in rendering.FONTS.iterdir()} >= {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"}
    for page in pages(render_pdf(bilingual())):
        used = fonts(page).values()
        assert {f.name.split("+")[-1] for f in used} == {"DejaVuSansBook", "DejaVuSansBold"}
        assert all(f.embedded and f.to_unicode for f in used)
        mapped = "".join(text for f in used for text in f.to_unicode.values())
        assert "é" in mapped and "ج" in mapped


def test_many_rows_flow_onto_more_pages_with_the_heading_repeated_and_digests_whole():
    data = render_pdf(bilingual(rows=120))
    by_page = page_lines(data)
    count = len(by_page)
    assert count >= 3
    text = lines(data)
    for n in range(1, 121):
        assert digest(n) in text, n  # on one line: a digest fits its column
    for page in by_page[1:]:  # every later page the table runs over starts with its heading
        if any(line in page for line in map(digest, range(1, 121))):
            assert page[:4] == ["N°", "Pièce", "الوثيقة", "SHA-256"]
    assert [line for line in text if line.startswith("e-retraite · ABCD1234-1 · ")] == [
        f"e-retraite · ABCD1234-1 · {n}/{count}" for n in range(1, count + 1)]
    assert text.index(digest(120)) < text.index("Scellé par la plateforme.") < text.index("مختوم من طرف المنصة.")


def test_a_french_only_document_with_two_part_fields():
    """Callers that give (label, value) pairs and no Arabic title keep working."""
    text = lines(render_pdf(IssuedDocument("Accusé de réception", "D-2026-0001", ISSUED,
                                           fields=[("Dossier", "Retraite")], issuer="Commune de Tanger")))
    assert text[:3] == ["Commune de Tanger · D-2026-0001", "2026-01-15 10:30 UTC", "Accusé de réception"]
    assert text[3:5] == ["Dossier", "Retraite"]
