"""Second round of tricks: what readers take differently from what a naive comparison sees (object
streams rewritten, page counts, drawing order, flags written as strings, a signature value reused,
pages that are streams), and genuine files from producers that sign or fill otherwise than pyHanko
(iText's Locked flag, a /Lock written at signing, a tagged widget, list boxes with /I, choice export
values, octal escapes, glyph-number fonts)."""

import io
import re
import struct

import pikepdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name as n
from pyhanko.pdf_utils.generic import pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

from .. import forge
from . import documents, edits


def _numbers(*values):
    return generic.ArrayObject(map(generic.FloatObject, values))


def _form_xobject(w, ops, width, height):
    return w.add_object(generic.StreamObject({
        n("/Type"): n("/XObject"), n("/Subtype"): n("/Form"), n("/BBox"): _numbers(0, 0, width, height),
        n("/Resources"): forge.HELVETICA}, stream_data=ops))


# --- an object stream of the signed revision rewritten ----------------------------------------------------


def object_stream_base(pages=1) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    texts = [b"BT /F1 14 Tf 56 760 Td (Attestation de travail) Tj ET BT /F1 14 Tf 56 700 Td (Montant: 1000 DH) Tj ET",
             b"BT /F1 14 Tf 56 760 Td (Annexe: la presente decision est annulee) Tj ET"][:pages]
    for text in texts:
        pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842], Contents=pdf.make_stream(text),
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)))))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def rewrite_object_stream(edit_member):
    """An update redefining the object stream that holds the page tree, its members edited by
    ``edit_member(reader, [(number, body)]) -> [(number, body)]``, none of them listed anew."""
    def edit(data):
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        stream_number = reader.xrefs[reader.root.raw_get("/Pages").reference].obj_stream_id
        stream = generic.IndirectObject(stream_number, 0, reader).get_object()
        raw, first = stream.data, int(stream["/First"])
        numbers = [int(t) for t in raw[:first].split()]
        pairs = list(zip(numbers[0::2], numbers[1::2], strict=False))
        bodies = [(number, raw[first + offset:(first + pairs[i + 1][1]) if i + 1 < len(pairs) else len(raw)].strip())
                  for i, (number, offset) in enumerate(pairs)]
        bodies = edit_member(reader, bodies)
        offsets, position = [], 0
        for _, body in bodies:
            offsets.append(position)
            position += len(body) + 1
        header = b" ".join(b"%d %d" % (number, offset) for (number, _), offset in zip(bodies, offsets,
                                                                                      strict=True)) + b"\n"
        payload = header + b"\n".join(body for _, body in bodies) + b"\n"
        size, root = int(reader.trailer["/Size"]), reader.trailer.raw_get("/Root").idnum
        prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
        out = bytearray(data)
        rows = [(stream_number, struct.pack(">BIH", 1, len(out), 0))]
        out += (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d >>\nstream\n"
                % (stream_number, len(bodies), len(header), len(payload)) + payload + b"\nendstream\nendobj\n")
        xref_number, xref_offset = size, len(out)
        rows.append((xref_number, struct.pack(">BIH", 1, xref_offset, 0)))
        index = b" ".join(b"%d 1" % number for number, _ in sorted(rows))
        entries = b"".join(entry for _, entry in sorted(rows))
        out += (b"%d 0 obj\n<< /Type /XRef /Size %d /Root %d 0 R /Prev %d /W [1 4 2] /Index [%s] /Length %d >>\n"
                b"stream\n" % (xref_number, xref_number + 1, root, prev, index, len(entries))
                + entries + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset)
        return bytes(out)
    return edit


def font_draws_nine_for_one(reader, bodies):
    remapped = b"/BaseFont /Helvetica /Encoding << /Differences [49 /nine] >>"
    return [(number, body.replace(b"/BaseFont /Helvetica", remapped)) for number, body in bodies]


def tree_drops_second_page(reader, bodies):
    tree = reader.root.raw_get("/Pages").idnum
    first = reader.root["/Pages"]["/Kids"].raw_get(0).idnum
    return [(number, re.sub(rb"/Count \d+", b"/Count 1", re.sub(rb"/Kids\s*\[[^\]]*\]", b"/Kids [%d 0 R]" % first,
                                                                  body)) if number == tree else body)
            for number, body in bodies]


# --- the page tree's /Count, the drawing order, flags as strings ---------------------------------------


def set_page_count(value):
    def edit(data):
        def change(w):
            ref = w.root.raw_get("/Pages")
            ref.get_object()[n("/Count")] = generic.NumberObject(value)
            w.mark_update(ref)
        return forge.update(data, change)
    return edit


def one_page_counted_over_two() -> bytes:
    """Two pages, /Count 1: a reader shows one (the annex waits)."""
    w = PdfFileWriter()
    for text in ("Decision: montant 1000 DH", "Annexe: montant porte a 9000 DH"):
        w.insert_page(PageObject(forge.stream(w, forge.text_ops(text)), forge.A4, forge.HELVETICA))
    w.root["/Pages"][n("/Count")] = generic.NumberObject(1)
    return forge.write(w)


def stacked_stamps() -> bytes:
    """Two opaque stamps at one place: 9000 DH under 1000 DH (the last drawn is on top)."""
    w = PdfFileWriter()
    page = w.insert_page(PageObject(forge.stream(w, forge.text_ops("Decision de mise a la retraite", 760)),
                                    forge.A4, forge.HELVETICA))
    stamps = []
    for text in (b"Montant: 9000 DH", b"Montant: 1000 DH"):
        ap = _form_xobject(w, b"1 g 0 0 250 30 re f 0 g BT /F1 14 Tf 4 8 Td (%s) Tj ET" % text, 250, 30)
        stamps.append(w.add_object(generic.DictionaryObject({
            n("/Type"): n("/Annot"), n("/Subtype"): n("/Stamp"), n("/Rect"): _numbers(50, 690, 300, 720),
            n("/F"): generic.NumberObject(4), n("/AP"): generic.DictionaryObject({n("/N"): ap}), n("/P"): page})))
    page.get_object()[n("/Annots")] = generic.ArrayObject(stamps)
    return forge.write(w)


def reverse_annotations(data):
    def change(w):
        ref = forge.first_page_ref(w)
        page = ref.get_object()
        annots = page["/Annots"]
        page[n("/Annots")] = generic.ArrayObject(reversed([annots.raw_get(i) for i in range(len(annots))]))
        w.mark_update(ref)
    return forge.update(data, change)


def note_with_string_flags(data):
    """A note whiting out the amount and writing another, its /F written as the string (2): hidden for
    a reader that converts strings, drawn by PDFium."""
    def change(w):
        ap = _form_xobject(w, b"1 g 0 0 280 20 re f", 280, 20)
        note = w.add_object(generic.DictionaryObject({
            n("/Type"): n("/Annot"), n("/Subtype"): n("/Text"), n("/Rect"): _numbers(50, 752, 330, 772),
            n("/Contents"): pdf_string("vu"), n("/F"): pdf_string("2"),
            n("/AP"): generic.DictionaryObject({n("/N"): ap})}))
        w.register_annotation(forge.first_page_ref(w), note)
    return forge.update(data, change)


def black_bar_highlight(data):
    """A "highlight" that paints the amount black (a redaction look-alike)."""
    def change(w):
        ap = _form_xobject(w, b"0 g 0 0 85 20 re f", 85, 20)
        mark = w.add_object(generic.DictionaryObject({
            n("/Type"): n("/Annot"), n("/Subtype"): n("/Highlight"), n("/Rect"): _numbers(105, 752, 190, 772),
            n("/QuadPoints"): _numbers(105, 772, 190, 772, 105, 752, 190, 752), n("/F"): generic.NumberObject(4),
            n("/AP"): generic.DictionaryObject({n("/N"): ap})}))
        w.register_annotation(forge.first_page_ref(w), mark)
    return forge.update(data, change)


# --- a signature value reused, a page that is a stream -----------------------------------------------------


def clone_signature(data):
    """A new signature field whose /V is the first signature's dictionary (no key needed)."""
    def change(w):
        value = w.root["/AcroForm"]["/Fields"][0].get_object().raw_get("/V")
        page = forge.first_page_ref(w)
        ap = _form_xobject(w, b"BT /F1 13 Tf 8 36 Td (Vise: montant porte a 9000 DH) Tj ET", 480, 60)
        widget = w.add_object(generic.DictionaryObject({
            n("/Type"): n("/Annot"), n("/Subtype"): n("/Widget"), n("/FT"): n("/Sig"),
            n("/T"): pdf_string("Signature2"), n("/V"): value, n("/F"): generic.NumberObject(4),
            n("/Rect"): _numbers(60, 300, 540, 360),
            n("/AP"): generic.DictionaryObject({n("/N"): ap}), n("/P"): page}))
        w.register_annotation(page, widget)
        edits._append_field(w, widget)
    return forge.update(data, change)


def page_that_is_a_stream() -> bytes:
    """A page object that is a stream and names itself as its own contents."""
    data = b"BT /F1 14 Tf 56 780 Td (Attestation de travail) Tj ET BT /F1 14 Tf 56 710 Td (Montant: 1000 DH) Tj ET"
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), {}

    def obj(number, body):
        offsets[number] = len(out)
        out.extend(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << /Font << /F1 4 0 R >> "
           b">> /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
    obj(4, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    xref = len(out)
    out.extend(b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offsets[k] for k in range(1, 5)))
    out.extend(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


def swap_page_stream(data):
    def change(w):
        ref = forge.first_page_ref(w)
        page = ref.get_object()
        page._data, page._encoded_data = page.data.replace(b"1000", b"9000"), None
        for key in ("/Filter", "/DecodeParms"):
            page.pop(key, None)
        w.mark_update(ref)
    return forge.update(data, change)


# --- genuine: other producers signing a prepared field, other form fills ----------------------------------


def sign_placeholder_as(touch, who="CD789012", name="DRH"):
    """Sign the empty ``name`` field as another tool does, ``touch(writer, field_ref)`` in the same update."""
    def step(pki, data):
        w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        for ref in w.root["/AcroForm"]["/Fields"]:
            if ref.get_object().get("/T") == name:
                touch(w, ref)
                w.mark_update(ref)
        meta = PdfSignatureMetadata(field_name=name, md_algorithm="sha256")
        return signers.PdfSigner(meta, signer=pki.signer(who)).sign_pdf(w).getvalue()
    return step


def itext_locked_flag(w, ref):
    field = ref.get_object()
    field[n("/F")] = generic.NumberObject(int(field.get("/F", 0)) | 4 | 128)


def lock_written_at_signing(w, ref):
    ref.get_object()[n("/Lock")] = w.add_object(generic.DictionaryObject({
        n("/Type"): n("/SigFieldLock"), n("/Action"): n("/Include"),
        n("/Fields"): generic.ArrayObject([pdf_string("amount")])}))


def tagged_widget(w, ref):
    ref.get_object()[n("/StructParent")] = generic.NumberObject(7)


def _choice_widget(w, page, name, y, value, shown, extra, height=20):
    ops = b"/Tx BMC BT /F1 11 Tf 2 6 Td " + shown + b" Tj ET EMC" if shown else b"/Tx BMC EMC"
    entries = {n("/Type"): n("/Annot"), n("/Subtype"): n("/Widget"), n("/T"): pdf_string(name),
               n("/F"): generic.NumberObject(4), n("/DA"): pdf_string("/Helv 11 Tf 0 g"),
               n("/Rect"): _numbers(300, y, 500, y + height),
               n("/AP"): generic.DictionaryObject({n("/N"): _form_xobject(w, ops, 200, height)}),
               n("/P"): page, **extra}
    if value is not None:
        entries[n("/V")] = value
    return w.add_object(generic.DictionaryObject(entries))


def other_fields_form() -> bytes:
    """A form with a combo box (export 01, shown Casablanca), a text drawn with an octal escape, an
    Arabic name drawn as glyph numbers, a list box and an empty remarks field."""
    w = PdfFileWriter()
    page = w.insert_page(PageObject(forge.stream(w, forge.text_ops("Decision", 780)), forge.A4, forge.HELVETICA))
    widgets = [
        _choice_widget(w, page, "ville", 735, pdf_string("01"), b"(Casablanca)", {
            n("/FT"): n("/Ch"), n("/Ff"): generic.NumberObject(1 << 17), n("/Opt"): generic.ArrayObject([
                generic.ArrayObject([pdf_string("01"), pdf_string("Casablanca")]),
                generic.ArrayObject([pdf_string("02"), pdf_string("Rabat")])])}),
        _choice_widget(w, page, "avis", 700, pdf_string("Approuvé"), b"(Approuv\\351)", {n("/FT"): n("/Tx")}),
        _choice_widget(w, page, "nom_ar", 665, pdf_string("أمينة"), b"<0213021A01F50236>", {n("/FT"): n("/Tx")}),
        _choice_widget(w, page, "services", 580, None, b"", {
            n("/FT"): n("/Ch"), n("/Ff"): generic.NumberObject(1 << 21),
            n("/Opt"): generic.ArrayObject([pdf_string("Pensions"), pdf_string("Retraite"), pdf_string("Paie")])}, 60),
        _choice_widget(w, page, "observations", 520, None, b"", {n("/FT"): n("/Tx")}),
    ]
    page.get_object()[n("/Annots")] = generic.ArrayObject(widgets)
    helv = w.add_object(generic.DictionaryObject({n("/Type"): n("/Font"), n("/Subtype"): n("/Type1"),
                                                  n("/BaseFont"): n("/Helvetica")}))
    w.root[n("/AcroForm")] = w.add_object(generic.DictionaryObject({
        n("/Fields"): generic.ArrayObject(widgets), n("/DA"): pdf_string("/Helv 0 Tf 0 g"),
        n("/DR"): generic.DictionaryObject({n("/Font"): generic.DictionaryObject({n("/Helv"): helv})})}))
    return forge.write(w)


def list_box_filled(data):
    """Two services chosen in the list box, as Acrobat writes it: /V, /I and a new appearance."""
    def change(w):
        for ref in w.root["/AcroForm"]["/Fields"]:
            field = ref.get_object()
            if field.get("/T") == "services":
                field[n("/V")] = generic.ArrayObject([pdf_string("Pensions"), pdf_string("Retraite")])
                field[n("/I")] = generic.ArrayObject([generic.NumberObject(0), generic.NumberObject(1)])
                field[n("/AP")] = generic.DictionaryObject({n("/N"): _form_xobject(
                    w, b"/Tx BMC 0.6 g 0 40 200 20 re f 0 20 200 20 re f 0 g BT /F1 11 Tf 2 46 Td (Pensions) Tj "
                       b"0 -20 Td (Retraite) Tj 0 -20 Td (Paie) Tj ET EMC", 200, 60)})
                w.mark_update(ref)
    return forge.update(data, change)


def documents_form_printable() -> bytes:
    """``documents.form`` with its signature fields marked printable (/F 4), as Acrobat prepares them."""
    with pikepdf.open(io.BytesIO(documents.form())) as pdf:
        for field in pdf.Root.AcroForm.Fields:
            if field.get("/FT") == "/Sig":
                field.F = 4
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()
