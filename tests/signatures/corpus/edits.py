"""What producers append to a signed PDF: each function takes the signed bytes and returns them with
one more incremental update, written the way that producer writes it (pyHanko's incremental writer,
pypdf's incremental mode, or bytes by hand for what no library writes)."""

import io
import re

import pypdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import add_validation_info
from pypdf import generic as pg
from pypdf.annotations import FreeText, Highlight, Text

from .. import forge

# --- pypdf, incremental mode -------------------------------------------------------------------------


def with_pypdf(data: bytes, change) -> bytes:
    writer = pypdf.PdfWriter(io.BytesIO(data), incremental=True)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pypdf_metadata(data):
    """Document properties updated (and, as pypdf does, the inherited page box made explicit)."""
    return with_pypdf(data, lambda w: w.add_metadata({"/Keywords": "retraite, dossier 2026"}))


def pypdf_xmp(data):
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
           b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject>retraite</dc:subject>'
           b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')

    def change(w):
        stream = pg.DecodedStreamObject()
        stream.set_data(xmp)
        stream.update({pg.NameObject("/Type"): pg.NameObject("/Metadata"),
                       pg.NameObject("/Subtype"): pg.NameObject("/XML")})
        w._root_object[pg.NameObject("/Metadata")] = w._add_object(stream)
    return with_pypdf(data, change)


def pypdf_fill(values, *, regenerate=True):
    def edit(data):
        def change(w):
            w.update_page_form_field_values(w.pages[0], values, auto_regenerate=regenerate)
        return with_pypdf(data, change)
    return edit


def pypdf_comment(data, rect=(540, 800, 560, 820), text="Vu, conforme"):
    return with_pypdf(data, lambda w: w.add_annotation(0, Text(rect=rect, text=text)))


def pypdf_highlight(data):
    quad = pg.ArrayObject([pg.FloatObject(v) for v in (56, 720, 300, 720, 56, 700, 300, 700)])
    return with_pypdf(data, lambda w: w.add_annotation(0, Highlight(rect=(56, 700, 300, 720), quad_points=quad)))


def pypdf_free_text(data, rect=(350, 300, 550, 330)):
    return with_pypdf(data, lambda w: w.add_annotation(0, FreeText(text="Montant corrige: 9000 DH", rect=rect)))


def pypdf_rewrite_dss(data):
    """A second tool's validation data: a new DSS dictionary (new object numbers, fresh streams, a VRI
    entry per signature), in place of the first, and the ESIC extension in the catalogue."""
    import hashlib

    def change(w):
        root = w._root_object
        old = root["/DSS"].get_object()
        def copy(key):
            refs = []
            for ref in old.get(key, []):
                stream = pg.DecodedStreamObject()
                stream.set_data(ref.get_object().get_data())
                refs.append(w._add_object(stream.flate_encode()))
            return pg.ArrayObject(refs)
        certs, crls = copy("/Certs"), copy("/CRLs")
        vri = pg.DictionaryObject()
        for field in w._root_object["/AcroForm"]["/Fields"]:
            value = field.get_object().get("/V")
            if value is None:
                continue
            contents = value.get_object()["/Contents"]
            key = hashlib.sha1(bytes(contents)).hexdigest().upper()
            vri[pg.NameObject("/" + key)] = pg.DictionaryObject({
                pg.NameObject("/Cert"): pg.ArrayObject(certs), pg.NameObject("/CRL"): pg.ArrayObject(crls)})
        dss = pg.DictionaryObject({pg.NameObject("/Type"): pg.NameObject("/DSS"),
                                   pg.NameObject("/Certs"): certs, pg.NameObject("/CRLs"): crls,
                                   pg.NameObject("/VRI"): vri})
        root[pg.NameObject("/DSS")] = w._add_object(dss)
        root[pg.NameObject("/Extensions")] = pg.DictionaryObject({pg.NameObject("/ESIC"): pg.DictionaryObject({
            pg.NameObject("/BaseVersion"): pg.NameObject("/1.7"),
            pg.NameObject("/ExtensionLevel"): pg.NumberObject(5)})})
    return with_pypdf(data, change)


def pypdf_change_value(name, value):
    return pypdf_fill({name: value})


def pypdf_remove_annotations(data):
    def change(w):
        del w.pages[0][pg.NameObject("/Annots")]
    return with_pypdf(data, change)


def pypdf_open_action_js(data):
    def change(w):
        action = w._add_object(pg.DictionaryObject({
            pg.NameObject("/S"): pg.NameObject("/JavaScript"),
            pg.NameObject("/JS"): pg.TextStringObject("app.launchURL('http://example.invalid/');")}))
        w._root_object[pg.NameObject("/OpenAction")] = action
    return with_pypdf(data, change)


def pypdf_embed_file(data):
    return with_pypdf(data, lambda w: w.add_attachment("annexe.exe", b"MZ\x90\x00 not really a program"))


def pypdf_media_box(data):
    def change(w):
        w.pages[0].mediabox = pg.RectangleObject((0, 0, 595, 600))  # cuts off the top of the page
    return with_pypdf(data, change)


def pypdf_rotate(data):
    return with_pypdf(data, lambda w: w.pages[0].rotate(90))


def pypdf_remove_page(data):
    def change(w):
        w.remove_page(1)
    return with_pypdf(data, change)


# --- pyHanko's incremental writer ---------------------------------------------------------------------


def with_pyhanko(data: bytes, change) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    change(writer)
    return forge.write(writer)


def _field(writer, name):
    for ref in writer.root["/AcroForm"]["/Fields"]:
        if ref.get_object().get("/T") == name:
            return ref
    raise KeyError(name)


def pyhanko_fill(name, value: str):
    """Fill a text field the way a viewer does: new value, new appearance stream, nothing else."""
    def edit(data):
        def change(w):
            ref = _field(w, name)
            widget = ref.get_object()
            widget[pdf_name("/V")] = pdf_string(value)
            ap = w.add_object(generic.StreamObject(
                {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
                 pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 200, 24))),
                 pdf_name("/Resources"): forge.HELVETICA},
                stream_data=b"/Tx BMC BT /F1 12 Tf 2 7 Td (" + value.encode("latin-1") + b") Tj ET EMC"))
            widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ap})
            w.mark_update(ref)
        return with_pyhanko(data, change)
    return edit


def pyhanko_check(name):
    def edit(data):
        def change(w):
            ref = _field(w, name)
            box = ref.get_object()
            box[pdf_name("/V")] = pdf_name("/Yes")
            box[pdf_name("/AS")] = pdf_name("/Yes")
            w.mark_update(ref)
        return with_pyhanko(data, change)
    return edit


def pyhanko_comment(data, rect=(560, 800, 580, 820), appearance=None):
    """A sticky note; with ``appearance`` (content stream bytes), drawn as that instead of an icon."""
    def change(w):
        entries = {pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
                   pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, rect)),
                   pdf_name("/Contents"): pdf_string("Observation du service"),
                   pdf_name("/F"): generic.NumberObject(4)}
        if appearance is not None:
            width, height = rect[2] - rect[0], rect[3] - rect[1]
            entries[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): w.add_object(generic.StreamObject(
                {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
                 pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, width, height))),
                 pdf_name("/Resources"): forge.HELVETICA}, stream_data=appearance))})
        w.register_annotation(forge.first_page_ref(w), w.add_object(generic.DictionaryObject(entries)))
    return with_pyhanko(data, change)


def pyhanko_launch_note(data):
    action = generic.DictionaryObject({pdf_name("/S"): pdf_name("/Launch"), pdf_name("/F"): pdf_string("cmd.exe")})
    return forge.annotate(data, "/Text", (560, 800, 580, 820), "Ouvrir l'annexe", A=action)


def _append_field(w, field_ref):
    """Add a field to the form's /Fields, marking what holds that array as updated."""
    form_ref = w.root.raw_get("/AcroForm")
    form = form_ref.get_object()
    form["/Fields"].append(field_ref)
    fields_ref = form.raw_get("/Fields")
    if isinstance(fields_ref, generic.IndirectObject):
        w.mark_update(fields_ref)
    elif isinstance(form_ref, generic.IndirectObject):
        w.mark_update(form_ref)
    else:
        w.update_root()


def pyhanko_new_text_field(data):
    def change(w):
        page = forge.first_page_ref(w)
        widget = w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): pdf_string("montant_corrige"),
            pdf_name("/V"): pdf_string("9000 DH"), pdf_name("/F"): generic.NumberObject(4),
            pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (300, 400, 500, 424))),
            pdf_name("/P"): page}))
        w.register_annotation(page, widget)
        _append_field(w, widget)
    return with_pyhanko(data, change)


def pyhanko_replace_signature_appearance(data):
    """Redraw the first signature's stamp with another name."""
    def change(w):
        for ref in w.root["/AcroForm"]["/Fields"]:
            field = ref.get_object()
            if field.get("/FT") == "/Sig" and "/V" in field:
                ap = w.add_object(generic.StreamObject(
                    {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
                     pdf_name("/BBox"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 200, 50))),
                     pdf_name("/Resources"): forge.HELVETICA},
                    stream_data=forge.text_ops("Signe par: Quelqu'un d'autre", 20)))
                field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ap})
                w.mark_update(ref)
                return
    return with_pyhanko(data, change)


def pyhanko_xfa(data):
    def change(w):
        form_ref = w.root.raw_get("/AcroForm")
        form = form_ref.get_object()
        form[pdf_name("/XFA")] = w.add_object(generic.StreamObject(
            stream_data=b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><script>app.alert(1)</script></xdp:xdp>'))
        w.mark_update(form_ref)
    return with_pyhanko(data, change)


def pyhanko_font_swap(data):
    """The page's font replaced by another: same text, other glyphs."""
    def change(w):
        ref = forge.first_page_ref(w)
        page = ref.get_object()
        resources = page.get("/Resources") or w.root["/Pages"]["/Resources"]
        fonts = resources["/Font"]
        name = next(iter(fonts))
        fonts[pdf_name(name)] = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/ZapfDingbats")})
        page[pdf_name("/Resources")] = resources
        w.mark_update(ref)
    return with_pyhanko(data, change)


def pyhanko_validation_data(data, trust, *, which=-1):
    """Validation data (certificates, CRLs) for a signature, added by pyHanko after signing."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    emb = reader.embedded_signatures[which]
    out = io.BytesIO()
    add_validation_info(emb, trust.validation_context(), output=out)
    return out.getvalue()


def pyhanko_document_timestamp(data, pki, field_name=None):
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    stamper = signers.PdfTimeStamper(pki.timestamper(), field_name=field_name)
    return stamper.timestamp_pdf(writer, "sha256", validation_context=pki.trust.validation_context(),
                                 bytes_reserved=16384).getvalue()


def other_product_timestamp(data, pki):
    """A document timestamp as another product adds it: a hidden field that is on no page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    field = writer.add_object(generic.DictionaryObject({
        pdf_name("/FT"): pdf_name("/Sig"), pdf_name("/T"): pdf_string("ArchiveTimeStamp"),
        pdf_name("/F"): generic.NumberObject(2),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.NumberObject, (0, 0, 0, 0)))}))
    _append_field(writer, field)
    stamper = signers.PdfTimeStamper(pki.timestamper(), field_name="ArchiveTimeStamp")
    return stamper.timestamp_pdf(writer, "sha256", bytes_reserved=16384).getvalue()


def pyhanko_archive_again(data, pki):
    """The archival chain renewed: the last timestamp's validation data, then a new timestamp."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    out = io.BytesIO()
    signers.PdfTimeStamper(pki.timestamper()).update_archival_timestamp_chain(
        reader, pki.trust.validation_context(), in_place=False, output=out)
    return out.getvalue()


# --- bytes written by hand: what no library writes on purpose --------------------------------------------


def append_objects_without_xref(data, *, repeat_tail=True):
    """An object appended after %%EOF with no cross-reference section of its own (an "incremental
    saving attack" that viewers which rebuild broken files read into the document). With
    ``repeat_tail``, the previous ``startxref ... %%EOF`` is copied after it, so that a strict reader
    still finds the old cross-reference and sees nothing."""
    content = forge.text_ops("Montant: 9000 DH")
    body = b"4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(content), content)
    tail = data[data.rindex(b"startxref"):] if repeat_tail else b"%%EOF\n"
    return data + body + tail


def define_dangling(number):
    def edit(data):
        content = forge.text_ops("Montant rectifie: 9000 DH", 650)
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        size = int(reader.trailer["/Size"])
        prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
        root = reader.trailer.raw_get("/Root")
        offset = len(data)
        body = b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (number, len(content), content)
        xref = offset + len(body)
        tail = (b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
                % (number, offset, max(size, number + 1), root.idnum, prev, xref))
        return data + body + tail
    return edit


def free_page_content(data):
    """An update whose cross-reference frees the page's content stream."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    ref = contents[0] if isinstance(contents, list) else contents
    prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    size = int(reader.trailer["/Size"])
    root = reader.trailer.raw_get("/Root")
    if reader.xrefs.get_xref_container_info(reader.xrefs.total_revisions - 1).stream_ref is not None:
        return None  # only classic tables here
    tail = (b"xref\n0 1\n0000000000 65535 f \n%d 1\n0000000000 00001 f \ntrailer\n<< /Size %d /Root %d 0 R "
            b"/Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (ref.idnum, size, root.idnum, prev, len(data)))
    return data + tail


def truncate(data, keep=0.6):
    return data[: int(len(data) * keep)]


def cut_tail(data, count=40):
    return data[:-count]


def flip_byte(data, marker=b"(TEST-1)"):
    index = data.find(marker)
    if index < 0:
        index = len(data) // 3
    return data[:index + 1] + bytes([data[index + 1] ^ 0x01]) + data[index + 2:]


BYTE_RANGE = re.compile(rb"/ByteRange\s*\[([\d\s]+)\]")


def null_byte_range(data):
    """USF: the last signature's /ByteRange emptied (same length), its CMS untouched."""
    match = list(BYTE_RANGE.finditer(data))[-1]
    width = len(match.group(1))
    return data[:match.start(1)] + b"0 0 0 0".ljust(width) + data[match.end(1):]


def empty_contents(data):
    """USF: the last signature's /Contents zeroed."""
    start = data.rindex(b"/Contents <") + len(b"/Contents <")
    end = data.index(b">", start)
    return data[:start] + b"0" * (end - start) + data[end:]


def new_root_without_prev(data):
    """An update with a cross-reference of its own and no /Prev: readers that follow it see a new
    document, and the signed revision becomes unreachable."""
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    size = int(reader.trailer["/Size"])
    content = forge.text_ops("Montant: 9000 DH")
    n = size
    objects = [
        b"<< /Type /Catalog /Pages %d 0 R >>" % (n + 1),
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 2),
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>" % (n + 1, n + 3),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(data)
    offsets = []
    for i, body in enumerate(objects):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n + i, body)
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n%d %d\n" % (n, len(objects))
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (n + len(objects), n, xref)
    return bytes(out)


def lock_spec(names):
    return fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=list(names))


def pypdf_tab_order(data):
    """The page's tab order set (a viewer does it when a field is added): structure, nothing drawn."""
    def change(w):
        w.pages[0][pg.NameObject("/Tabs")] = pg.NameObject("/S")
    return with_pypdf(data, change)


def pypdf_metadata_and_rotation(data):
    """Document properties updated, and in the same update the page turned."""
    def change(w):
        w.add_metadata({"/Keywords": "retraite"})
        w.pages[0].rotate(180)
    return with_pypdf(data, change)


def validation_data_and_content(data, trust):
    """Validation data added, and in the same update the page's text replaced."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    emb = reader.embedded_signatures[-1]
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    chain = [emb.signer_cert, *emb.other_embedded_certs]
    crls = list(trust.crls)
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=chain, crls=crls)
    ref = forge.first_page_ref(writer)
    ref.get_object()[pdf_name("/Contents")] = forge.stream(writer, forge.text_ops("Montant: 9000 DH"))
    writer.mark_update(ref)
    return forge.write(writer)


def timestamp_over_content_change(data, pki):
    """A document timestamp whose own revision also replaces the page's text."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    ref = forge.first_page_ref(writer)
    ref.get_object()[pdf_name("/Contents")] = forge.stream(writer, forge.text_ops("Montant: 9000 DH"))
    writer.mark_update(ref)
    return signers.PdfTimeStamper(pki.timestamper()).timestamp_pdf(writer, "sha256", bytes_reserved=16384).getvalue()


def hybrid_update(data, *, replace_page=False):
    """An update written as Word writes them: a classic table (empty but for the free head) whose
    trailer points (/XRefStm) to a cross-reference stream, which alone lists the new objects, kept in
    an object stream. ``replace_page``: the object stream holds a new version of the page, with other
    contents (readers that ignore /XRefStm still see the old page: a reader differential)."""
    import struct
    import zlib

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    size = int(reader.trailer["/Size"])
    prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    root = reader.trailer.raw_get("/Root")
    info_num, objstm_num, xref_num, content_num = size, size + 1, size + 2, size + 3
    out = bytearray(data)
    members = [(info_num, b"<< /Title (Decision) /ModDate (D:20261201120000Z) /Producer (Word) >>")]
    page_ref = reader.root["/Pages"]["/Kids"].raw_get(0)
    if replace_page:
        page = page_ref.get_object()
        content = forge.text_ops("Montant: 9000 DH")
        content_offset = len(out)
        out += b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (content_num, len(content), content)
        resources = page.raw_get("/Resources")
        res = b"%d 0 R" % resources.idnum if hasattr(resources, "idnum") else \
            b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"
        members.append((page_ref.idnum, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                        b"/Resources %s >>" % (page.raw_get("/Parent").idnum, content_num, res)))
    header = b" ".join(b"%d %d" % (num, 0) for num, _ in members)  # offsets filled below
    bodies, offsets, position = [], [], 0
    for _, body in members:
        offsets.append(position)
        bodies.append(body)
        position += len(body) + 1
    header = b" ".join(b"%d %d" % (num, off) for (num, _), off in zip(members, offsets)) + b" "
    payload = header + b"\n".join(bodies) + b"\n"
    compressed = zlib.compress(payload)
    objstm_offset = len(out)
    out += (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
            % (objstm_num, len(members), len(header), len(compressed)) + compressed + b"\nendstream\nendobj\n")
    rows = [(objstm_num, struct.pack(">BIH", 1, objstm_offset, 0))]
    rows += [(num, struct.pack(">BIH", 2, objstm_num, i)) for i, (num, _) in enumerate(members)]
    if replace_page:
        rows.append((content_num, struct.pack(">BIH", 1, content_offset, 0)))
    rows.sort()
    index = b" ".join(b"%d 1" % num for num, _ in rows)
    entries = b"".join(entry for _, entry in rows)
    xref_stm_offset = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] /Length %d >>\nstream\n"
            % (xref_num, content_num + 1, index, len(entries)) + entries + b"\nendstream\nendobj\n")
    table = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    out += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (content_num + 1, root.idnum, info_num, prev, xref_stm_offset, table))
    return bytes(out)
