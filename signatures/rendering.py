"""Render a document the platform issues (a receipt, a certificate) to a one-page A4 PDF.

Plain PDF text with the standard Helvetica font (WinAnsi encoding): French and English render,
Arabic does not (the standard fonts have no Arabic glyphs, and shaping would need an OpenType
engine); characters outside WinAnsi are replaced by "?".
"""

import io
import textwrap
from dataclasses import dataclass, field
from datetime import datetime

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

A4 = (0, 0, 595, 842)
MARGIN = 56
WRAP = 90  # characters per line at 10 pt, a safe bound for Helvetica on A4


@dataclass
class IssuedDocument:
    title: str
    reference: str
    issued_at: datetime
    fields: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    paragraphs: list[str] = field(default_factory=list)
    issuer: str = "e-retraite"


def _text(value: str) -> bytes:
    raw = str(value).encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _fonts():
    def font(base):
        return generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name(base),
            pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
        })
    return generic.DictionaryObject({pdf_name("/F1"): font("/Helvetica"),
                                     pdf_name("/F2"): font("/Helvetica-Bold")})


def render_pdf(doc: IssuedDocument) -> bytes:
    lines = [(b"/F2", 16, doc.title), (b"/F1", 10, f"{doc.issuer} - {doc.reference}"),
             (b"/F1", 10, doc.issued_at.strftime("%Y-%m-%d %H:%M %Z").strip()), (None, 10, "")]
    for label, value in doc.fields:
        wrapped = textwrap.wrap(f"{label}: {value}", WRAP) or [""]
        lines.extend((b"/F1", 11, part) for part in wrapped)
    for paragraph in doc.paragraphs:
        lines.append((None, 10, ""))
        lines.extend((b"/F1", 10, part) for part in textwrap.wrap(paragraph, WRAP))

    y = A4[3] - MARGIN
    ops = []
    for font, size, text in lines:
        y -= size + 6
        if y < MARGIN:
            break
        if font:
            ops.append(b"BT %s %d Tf %d %d Td %s Tj ET" % (font, size, MARGIN, y, _text(text)))
    writer = PdfFileWriter()
    content = writer.add_object(generic.StreamObject(stream_data=b"\n".join(ops)))
    resources = generic.DictionaryObject({pdf_name("/Font"): _fonts()})
    writer.insert_page(PageObject(content, A4, resources))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
