"""Render a document the platform issues (a transmittal slip, a receipt) to an A4 PDF, in French and Arabic.

fpdf2 lays the page out with the DejaVu Sans fonts bundled in ``signatures/fonts`` (Latin with its accents,
Arabic), never a system font. Its text shaping (HarfBuzz) joins the Arabic letters and orders right-to-left
runs (Unicode bidi). The fonts are embedded (subset) with a ToUnicode map, so the text can be searched and
copied. The content flows onto as many pages as it needs; each page carries the reference and its number.

Layout: the title (French, then Arabic); the fields, one row each: French label on the left, value, Arabic
label on the right; an optional table; paragraphs. A value, cell or paragraph whose first letter is Arabic
is aligned to the right.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
MARGIN = 42  # pt, about 15 mm
GREY = (90, 90, 90)


@dataclass
class Table:
    """Rows under one heading row; ``widths`` are relative; columns in ``small`` (digests) use a smaller font."""

    headings: list[str]
    rows: list[list[str]]
    widths: tuple[float, ...] = ()
    small: tuple[int, ...] = ()


@dataclass
class IssuedDocument:
    title: str
    reference: str
    issued_at: datetime
    fields: list[tuple[str, ...]] = field(default_factory=list)  # (label_fr, value) or (label_fr, value, label_ar)
    paragraphs: list[str] = field(default_factory=list)
    issuer: str = "e-retraite"
    title_ar: str = ""
    table: Table | None = None


def moment(value: datetime) -> str:
    """A date and time as printed on issued documents: ``2026-01-15 10:30 +01``."""
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def right_to_left(text: str) -> bool:
    """Whether the text's first letter belongs to a right-to-left script (Arabic)."""
    for char in str(text):
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def _align(text: str) -> str:
    return "R" if right_to_left(text) else "L"


class _Page(FPDF):
    def __init__(self, doc: IssuedDocument):
        super().__init__(unit="pt", format="A4")
        self.doc = doc
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_text_shaping(True)
        self.set_creation_date(doc.issued_at)
        self.set_title(" / ".join(t for t in (doc.title, doc.title_ar) if t))
        self.set_subject(doc.reference)
        self.set_author(doc.issuer)
        self.set_creator("e-retraite")

    def footer(self):
        self.set_y(-MARGIN + 12)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(0, 10, f"{self.doc.issuer} · {self.doc.reference} · {self.page_no()}/{{nb}}", align="C")


def _header(pdf: _Page, doc: IssuedDocument):
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.cell(pdf.epw / 2, 12, f"{doc.issuer} · {doc.reference}")
    pdf.cell(pdf.epw / 2, 12, moment(doc.issued_at), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_text_color(0)
    pdf.set_font(FAMILY, "B", 15)
    for title in (doc.title, doc.title_ar):
        if title:
            pdf.multi_cell(0, 21, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_draw_color(150)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(8)


def _fields(pdf: _Page, rows):
    label = FontFace(emphasis="BOLD", color=GREY, size_pt=8.5)
    pdf.set_font(FAMILY, "", 10)
    with pdf.table(col_widths=(160, 231, 120), borders_layout="NONE", first_row_as_headings=False,
                   line_height=13, padding=(2, 2)) as table:
        for label_fr, value, *arabic in rows:
            label_ar = arabic[0] if arabic else ""
            row = table.row()
            row.cell(label_fr, style=label, align="L")
            row.cell(str(value), align=_align(value))
            row.cell(label_ar, style=label, align="R")
    pdf.ln(10)


def _table(pdf: _Page, spec: Table):
    small = FontFace(size_pt=7)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_draw_color(150)
    headings = FontFace(emphasis="BOLD", fill_color=(232, 232, 232), size_pt=8.5)
    with pdf.table(col_widths=spec.widths or None, headings_style=headings, line_height=11,
                   padding=(2, 3)) as table:
        row = table.row()
        for text in spec.headings:
            row.cell(text, align=_align(text))
        for values in spec.rows:
            row = table.row()
            for i, text in enumerate(values):
                row.cell(str(text), align=_align(text), style=small if i in spec.small else None)
    pdf.ln(10)


def render_pdf(doc: IssuedDocument) -> bytes:
    pdf = _Page(doc)
    pdf.add_page()
    _header(pdf, doc)
    if doc.fields:
        _fields(pdf, doc.fields)
    if doc.table:
        _table(pdf, doc.table)
    pdf.set_font(FAMILY, "", 9)
    for paragraph in doc.paragraphs:
        pdf.multi_cell(0, 12, paragraph, align=_align(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())
