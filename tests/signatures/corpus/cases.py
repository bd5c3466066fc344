"""Every corpus file: how it is made and what the verifier must say of it.

Classes (the corpus table's rows): multi-signature, long-term, producers (bases written by other
tools, documents touched by them after signing), form filling, comments, certification (DocMDP
P=1/2/3), locks (FieldMDP), algorithms, and the attack classes: incremental content replacement,
shadow attacks (hide, replace, hide-and-replace), universal signature forgery (USF), incremental
saving attacks (ISA), signature wrapping (SWA) and byte-range tricks, page changes, active content,
sneaky signatures and overlays, damaged files.
"""

import datetime as dt
import io

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign import signers
from pyhanko.stamp import TextStampStyle

from signatures import testpki
from signatures.signing import sign_pdf, signer_from_keys
from signatures.verification import Code

from .. import forge
from . import Case, differentials, documents, edits, tricks

OK, MODIFIED, INVALID, ACTIVE = Code.OK, Code.MODIFIED_AFTER_SIGNING, Code.SIGNATURE_INVALID, Code.ACTIVE_CONTENT
A, B, C = "AB123456", "CD789012", "EC100001"  # three officers

DER = serialization.Encoding.DER
_extra = {}


def _ec_signer(pki):
    """An officer whose class-3 certificate has an elliptic-curve key (P-256)."""
    if "ec" not in _extra:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = testpki._cert(testpki._name("Omar Chraibi", serial_number=C, org="Collectivite territoriale"),
                             key, pki.pki.ca.cert.subject, pki.pki.ca.key,
                             not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
                             crl_url=f"{testpki.CRL_BASE_URL}/class3-ca.crl")
        _extra["ec"] = signer_from_keys(cert.public_bytes(DER), key.private_bytes(
            DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
            [pki.pki.ca.cert.public_bytes(DER)])
    return _extra["ec"]


def _pss_signer(pki):
    base = pki.signer(B)
    return signers.SimpleSigner(signing_cert=base.signing_cert, signing_key=base.signing_key,
                                cert_registry=base.cert_registry, prefer_pss=True)


STAMP = TextStampStyle(stamp_text="Signe electroniquement par\n%(signer)s\n%(ts)s", border_width=1)
BOTTOM_LEFT, BOTTOM_RIGHT, BOTTOM_MIDDLE = (40, 40, 200, 90), (400, 40, 560, 90), (220, 100, 380, 150)


def signed(base, *steps):
    """A maker: the base document, then each step (``(pki, data) -> data``) in turn."""
    def make(pki):
        data = base() if callable(base) else base
        for step in steps:
            data = step(pki, data)
        return data
    return make


def sign(who=A, **options):
    def step(pki, data):
        kwargs = dict(options)
        make_signer = kwargs.pop("signer", None)
        if kwargs.get("level", "B-B") != "B-B":
            kwargs.setdefault("timestamper", pki.timestamper())
            kwargs.setdefault("trust", pki.trust)
        return sign_pdf(data, make_signer(pki) if make_signer else pki.signer(who), **kwargs)
    return step


def careless_sign(who=B):
    """Sign as a tool that ignores the certification's "no changes" (pyHanko itself refuses)."""
    from unittest import mock

    def step(pki, data):
        with mock.patch("pyhanko.sign.validation.read_certification_data", lambda reader: None):
            return sign_pdf(data, pki.signer(who))
    return step


def edit(function, *args, **kwargs):
    return lambda pki, data: function(data, *args, **kwargs)


def with_pki(function, *args):
    return lambda pki, data: function(data, pki, *args)


def trust_edit(function):
    return lambda pki, data: function(data, pki.trust)


def case(name, klass, genuine, expect, make, **options):
    return Case(name, klass, genuine, expect, make, options)


CASES = []

# --- several signatures ---------------------------------------------------------------------------------

for base in ("fpdf", "xref_stream", "classic", "hybrid", "object_streams", "linearized"):
    make_base = documents.BASES[base]
    CASES += [
        case(f"two-invisible-{base}", "multi-signature", True, OK,
             signed(make_base, sign(A), sign(B)), signer=A, changes={"signature_added"}),
        case(f"three-visible-{base}", "multi-signature", True, OK,
             signed(make_base, sign(A, box=BOTTOM_LEFT), sign(B, box=BOTTOM_RIGHT, stamp_style=STAMP),
                    sign(signer=_ec_signer, box=BOTTOM_MIDDLE, field_name="Visa")), signer=A,
             changes={"signature_added"}),
        case(f"add-page-between-{base}", "incremental content replacement", False, MODIFIED,
             signed(make_base, sign(A), edit(forge.add_page), sign(B)), refused={"page_added"}),
        case(f"replace-content-{base}", "incremental content replacement", False, MODIFIED,
             signed(make_base, sign(A), edit(forge.replace_text)), refused={"page_content"}),
    ]

CASES += [
    case("form-fields-signed-in-turn", "multi-signature", True, OK,
         signed(documents.form, sign(A, field_name="President"), sign(B, field_name="DRH", stamp_style=STAMP)),
         signer=A, changes={"signature_added"}),
    case("ec-and-pss-signers", "multi-signature", True, OK,
         signed(documents.fpdf, sign(signer=_ec_signer), sign(signer=_pss_signer, box=BOTTOM_RIGHT)),
         changes={"signature_added"}),
    case("visible-second-signature-after-metadata", "multi-signature", True, OK,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_metadata), sign(B, box=BOTTOM_RIGHT)), signer=A),
]

# --- long-term signatures -------------------------------------------------------------------------------

for level in ("B-T", "B-LT", "B-LTA"):
    CASES.append(case(f"pades-{level}", "long-term", True, OK,
                      signed(documents.fpdf, sign(A, level=level)), pades={0: level}))
CASES += [
    case("b-b-then-validation-data-then-timestamp", "long-term", True, OK,
         signed(documents.fpdf, sign(A), trust_edit(edits.pyhanko_validation_data),
                with_pki(edits.pyhanko_document_timestamp)),
         pades={0: "B-LTA"}, changes={"validation_data", "document_timestamp"}),
    case("lta-with-two-document-timestamps", "long-term", True, OK,
         signed(documents.fpdf, sign(A, level="B-LTA"), with_pki(edits.pyhanko_archive_again)),
         pades={0: "B-LTA"}),
    case("lta-renewed-three-times", "long-term", True, OK,
         signed(documents.xref_stream, sign(A, level="B-LTA"), with_pki(edits.pyhanko_archive_again),
                with_pki(edits.pyhanko_archive_again)), pades={0: "B-LTA"}),
    case("dss-rewritten-by-second-tool", "long-term", True, OK,
         signed(documents.fpdf, sign(A, level="B-T"), trust_edit(edits.pyhanko_validation_data),
                edit(edits.pypdf_rewrite_dss), with_pki(edits.pyhanko_document_timestamp)),
         pades={0: "B-LTA"}, changes={"validation_data"}),
    case("dss-rewritten-on-classic-xref", "long-term", True, OK,
         signed(documents.classic, sign(A), sign(B, level="B-T"), trust_edit(edits.pyhanko_validation_data),
                edit(edits.pypdf_rewrite_dss)), pades={1: "B-LT"}),
    case("timestamp-by-other-product", "long-term", True, OK,
         signed(documents.fpdf, sign(A, level="B-LT"), with_pki(edits.other_product_timestamp)),
         pades={0: "B-LTA"}, changes={"document_timestamp"}),
    case("lta-then-second-signature", "long-term", True, OK,
         signed(documents.fpdf, sign(A, level="B-LTA"), sign(B, level="B-T")), pades={0: "B-LTA", 1: "B-T"}),
    case("lta-on-object-streams", "long-term", True, OK,
         signed(documents.object_streams, sign(A, level="B-LTA"), sign(B, box=BOTTOM_RIGHT)),
         pades={0: "B-LTA"}),
    case("lta-on-hybrid", "long-term", True, OK,
         signed(documents.hybrid, sign(A, level="B-LTA"), with_pki(edits.pyhanko_archive_again)),
         pades={0: "B-LTA"}),
    case("xmp-metadata-after-signing", "producers", True, OK,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_xmp)), changes={"metadata"}),
    case("properties-after-signing-pypdf", "producers", True, OK,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_metadata)), changes={"metadata"}),
    case("properties-on-object-streams", "producers", True, OK,
         signed(documents.object_streams, sign(A), edit(edits.pypdf_metadata), sign(B))),
]

# --- form filling ---------------------------------------------------------------------------------------

CASES += [
    case("fill-empty-field-pypdf", "form filling", True, OK,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pypdf_fill({"visa": "Vu et approuve"}))),
         signer=A, changes={"form_filled"}),
    case("fill-empty-field-viewer", "form filling", True, OK,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_fill("date", "01/12/2026"))),
         signer=A, changes={"form_filled"}),
    case("check-box-after-signing", "form filling", True, OK,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_check("agree"))),
         changes={"form_filled"}),
    case("fill-then-second-signature", "form filling", True, OK,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_fill("visa", "Vu")),
                sign(B, field_name="DRH")), signer=A, changes={"form_filled", "signature_added"}),
    case("replace-signed-value-pypdf", "shadow attack (replace)", False, MODIFIED,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pypdf_fill({"amount": "9000 DH"}))),
         refused={"field_value_replaced"}),
    case("replace-signed-value-viewer", "shadow attack (replace)", False, MODIFIED,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_fill("amount", "9000 DH")))),
    case("new-field-after-signing", "form filling", False, MODIFIED,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_new_text_field)),
         refused={"field_added"}),
]

# --- field locks (FieldMDP) -----------------------------------------------------------------------------

CASES += [
    case("lock-visa-fill-date", "locks", True, OK,
         signed(documents.form, sign(A, lock_fields=["visa"]), edit(edits.pyhanko_fill("date", "01/12/2026"))),
         changes={"form_filled"}),
    case("lock-visa-fill-visa", "locks", False, MODIFIED,
         signed(documents.form, sign(A, lock_fields=["visa"]), edit(edits.pyhanko_fill("visa", "Refuse"))),
         refused={"locked_field_changed"}),
    case("lock-all-fill-date", "locks", False, MODIFIED,
         signed(documents.form, sign(A, lock_fields="all"), edit(edits.pypdf_fill({"date": "01/12/2026"})))),
    case("lock-on-existing-field-then-fill", "locks", False, MODIFIED,
         signed(documents.form, sign(A, field_name="President", lock_fields=["visa"]),
                edit(edits.pyhanko_fill("visa", "Refuse"))), refused={"locked_field_changed"}),
    case("lock-all-then-countersign", "locks", True, OK,
         signed(documents.form, sign(A, lock_fields="all"), sign(B, box=BOTTOM_MIDDLE))),
]

# --- comments and other annotations ---------------------------------------------------------------------

CASES += [
    case("sticky-note-pypdf", "comments", True, OK,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_comment)), signer=A, changes={"comment_added"}),
    case("sticky-note-viewer", "comments", True, OK,
         signed(documents.xref_stream, sign(A), edit(edits.pyhanko_comment)), signer=A,
         changes={"comment_added"}),
    case("highlight-after-signing", "comments", True, OK,
         signed(documents.xref_stream, sign(A), edit(edits.pypdf_highlight)), changes={"comment_added"}),
    case("comment-then-signature", "comments", True, OK,
         signed(documents.classic, sign(A), edit(edits.pypdf_comment), sign(B)), signer=A),
    case("free-text-after-approval", "comments", False, MODIFIED,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_free_text)), refused={"annotation_changed"}),
    case("free-text-forge", "comments", False, MODIFIED, signed(documents.fpdf, sign(A), edit(forge.add_annotation))),
    case("comment-removed-after-signing", "comments", False, MODIFIED,
         signed(documents.commented, sign(A), edit(edits.pypdf_remove_annotations)),
         refused={"annotation_changed"}),
    case("note-hiding-signed-text", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(edits.pyhanko_comment, (50, 750, 330, 790),
                                                      b"1 g 0 0 280 40 re f")), signer=A, reason="covered"),
]

# --- certification (DocMDP) -----------------------------------------------------------------------------

CASES += [
    case("certified-p1-then-ltv", "certification", True, OK,
         signed(documents.fpdf, sign(A, certify=True, docmdp=1), trust_edit(edits.pyhanko_validation_data),
                with_pki(edits.pyhanko_document_timestamp)), changes={"validation_data"}),
    case("certified-p1-then-fill", "certification", False, MODIFIED,
         signed(documents.form, sign(A, certify=True, docmdp=1), edit(edits.pyhanko_fill("visa", "Vu")))),
    case("certified-p1-then-note", "certification", False, MODIFIED,
         signed(documents.fpdf, sign(A, certify=True, docmdp=1), edit(edits.pypdf_comment))),
    case("certified-p2-then-fill-and-sign", "certification", True, OK,
         signed(documents.form, sign(A, certify=True, docmdp=2), edit(edits.pyhanko_fill("visa", "Vu")),
                sign(B, field_name="DRH")), changes={"form_filled", "signature_added"}),
    case("certified-p2-then-note", "certification", False, MODIFIED,
         signed(documents.form, sign(A, certify=True, docmdp=2), edit(edits.pypdf_comment))),
    case("certified-p2-then-free-text", "certification", False, MODIFIED,
         signed(documents.form, sign(A, certify=True, docmdp=2), edit(edits.pypdf_free_text))),
    case("certified-p3-then-note-and-free-text", "certification", True, OK,
         signed(documents.fpdf, sign(A, certify=True, docmdp=3), edit(edits.pypdf_comment),
                edit(edits.pypdf_free_text)), signer=A, changes={"comment_added", "annotation_changed"}),
    case("certified-p3-free-text-over-text", "certification", False, MODIFIED,
         signed(documents.xref_stream, sign(A, certify=True, docmdp=3),
                edit(edits.pypdf_free_text, (50, 740, 350, 790))), signer=A, reason="covered"),
    case("certified-p3-then-content", "certification", False, MODIFIED,
         signed(documents.fpdf, sign(A, certify=True, docmdp=3), edit(forge.overlay))),
]

CASES += [
    case("certified-p1-then-signature", "certification", False, MODIFIED,
         signed(documents.fpdf, sign(A, certify=True, docmdp=1), careless_sign(B)), refused={"signature_added"}),
    case("tab-order-after-approval", "producers", True, OK,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_tab_order)), changes={"structure"}),
    case("certified-p1-then-tab-order", "certification", False, MODIFIED,
         signed(documents.fpdf, sign(A, certify=True, docmdp=1), edit(edits.pypdf_tab_order)),
         refused={"structure"}),
    case("properties-and-rotation-in-one-update", "page changes", False, MODIFIED,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_metadata_and_rotation)), refused={"page_changed"}),
    case("validation-data-and-content-in-one-update", "incremental content replacement", False, MODIFIED,
         signed(documents.xref_stream, sign(A), trust_edit(edits.validation_data_and_content)),
         refused={"page_content"}),
    case("timestamp-over-content-change", "incremental content replacement", False, MODIFIED,
         signed(documents.xref_stream, sign(A, level="B-T"), with_pki(edits.timestamp_over_content_change)),
         refused={"page_content"}),
    case("missing-objects", "producers", True, OK,
         signed(documents.missing_object, sign(A), sign(B, box=BOTTOM_RIGHT), sign(A, level="B-LTA")), signer=A),
    case("wrong-startxref-base", "producers", True, OK,
         signed(documents.wrong_startxref, sign(A), sign(B)), signer=A),
    case("hybrid-update-metadata", "producers", True, OK,
         signed(documents.classic, sign(A), edit(edits.hybrid_update)), changes={"metadata"}),
    case("hybrid-update-hides-new-page", "incremental saving attack (ISA)", False, MODIFIED,
         signed(documents.classic, sign(A), edit(edits.hybrid_update, replace_page=True)),
         refused={"page_content"}),
]

# --- algorithms -----------------------------------------------------------------------------------------

CASES += [
    case("sha512", "algorithms", True, OK, signed(documents.fpdf, sign(A, md_algorithm="sha512"))),
    case("sha1", "algorithms", False, Code.WEAK_ALGORITHM, signed(documents.fpdf, sign(A, md_algorithm="sha1")),
         intact=True),
    case("sha1-then-document-timestamp", "algorithms", False, Code.WEAK_ALGORITHM,
         signed(documents.fpdf, sign(A, md_algorithm="sha1"), trust_edit(edits.pyhanko_validation_data),
                with_pki(edits.pyhanko_document_timestamp)), intact=True),
]

# --- attacks: shadows, page changes, active content -----------------------------------------------------


def _shadow_hide(pki):
    document, cover = forge.shadow_hide_document()
    return forge.shadow_hide(pki.sign(document, A), cover)


def _shadow_hide_replace(pki):
    document, orphan = forge.shadow_hide_and_replace_document()
    return forge.shadow_hide_and_replace(pki.sign(document, A), orphan)


def _dangling(pki):
    document, number = documents.dangling()
    return edits.define_dangling(number)(pki.sign(document, A))


CASES += [
    case("shadow-hide", "shadow attack (hide)", False, MODIFIED, lambda pki: _shadow_hide(pki)),
    case("shadow-replace-forge", "shadow attack (replace)", False, MODIFIED,
         lambda pki: forge.shadow_replace(pki.sign(forge.shadow_replace_document(), A))),
    case("shadow-hide-and-replace", "shadow attack (hide-and-replace)", False, MODIFIED,
         lambda pki: _shadow_hide_replace(pki)),
    case("overlay-stream", "incremental content replacement", False, MODIFIED,
         signed(documents.fpdf, sign(A), edit(forge.overlay))),
    case("font-swapped", "page changes", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(edits.pyhanko_font_swap)), refused={"page_changed"}),
    case("media-box-cut", "page changes", False, MODIFIED,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_media_box))),
    case("page-rotated", "page changes", False, MODIFIED, signed(documents.fpdf, sign(A), edit(edits.pypdf_rotate))),
    case("page-removed", "page changes", False, MODIFIED,
         signed(documents.two_pages, sign(A), edit(edits.pypdf_remove_page)), refused={"page_removed"}),
    case("signed-then-page-added", "page changes", False, MODIFIED,
         signed(documents.fpdf, sign(A), edit(forge.add_page))),
    case("dangling-reference-defined-later", "incremental saving attack (ISA)", False, MODIFIED,
         lambda pki: _dangling(pki)),
    case("javascript-open-action", "active content", False, ACTIVE,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_open_action_js))),
    case("embedded-executable", "active content", False, ACTIVE,
         signed(documents.fpdf, sign(A), edit(edits.pypdf_embed_file))),
    case("note-with-launch-action", "active content", False, ACTIVE,
         signed(documents.xref_stream, sign(A), edit(edits.pyhanko_launch_note))),
    case("xfa-added", "active content", False, ACTIVE,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_xfa))),
    case("signature-appearance-redrawn", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.fpdf, sign(A, box=BOTTOM_LEFT), edit(edits.pyhanko_replace_signature_appearance)),
         refused={"signature_replaced"}),
    case("sneaky-signature-over-text", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.xref_stream, sign(A), sign(B, box=(50, 740, 350, 790))), signer=A, reason="covered"),
    case("sneaky-signature-over-first-stamp", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.xref_stream, sign(A, box=BOTTOM_LEFT), sign(B, box=(60, 50, 220, 100))),
         signer=A, reason="covered"),
]

# --- attacks: USF, ISA, SWA, byte ranges, damage --------------------------------------------------------


def _skip_range(pki):
    data = pki.sign(documents.fpdf(), A)
    reference = data.index(b"(TEST-1)") if b"(TEST-1)" in data else len(data) // 3
    forged = forge.resign_byte_range(data, pki.signer(A), lambda s, e, size: (0, reference - 1, e, size - e))
    return forged.replace(b"(TEST-1)", b"(TEST-9)", 1)


def _short_second(pki):
    data = pki.sign(pki.sign(documents.fpdf(), A), B)
    return forge.resign_byte_range(data, pki.signer(B), lambda s, e, size: (0, s, e, size - e - 40))


def _wrapped(pki):
    """SWA: a byte range whose gap is wider than the signature value, so that part of the signature
    dictionary (its date, its reason) is not signed (re-signed: only the coverage check can tell)."""
    data = pki.sign(documents.fpdf(), A)
    return forge.resign_byte_range(data, pki.signer(A), lambda s, e, size: (0, s - 60, e, size - e))


CASES += [
    case("usf-empty-byte-range", "universal signature forgery (USF)", False, INVALID,
         signed(documents.fpdf, sign(A), edit(edits.null_byte_range))),
    case("usf-empty-contents", "universal signature forgery (USF)", False, INVALID,
         signed(documents.fpdf, sign(A), edit(edits.empty_contents))),
    case("isa-objects-without-xref", "incremental saving attack (ISA)", False, MODIFIED,
         signed(documents.classic, sign(A), edit(edits.append_objects_without_xref)), refused={"appended_data"}),
    case("isa-objects-without-xref-or-startxref", "incremental saving attack (ISA)", False, None,
         signed(documents.xref_stream, sign(A), edit(edits.append_objects_without_xref, repeat_tail=False))),
    case("isa-new-document-without-prev", "incremental saving attack (ISA)", False, None,
         signed(documents.classic, sign(A), edit(edits.new_root_without_prev))),
    case("isa-freed-content", "incremental saving attack (ISA)", False, MODIFIED,
         signed(documents.classic, sign(A), edit(edits.free_page_content))),
    case("swa-range-skips-reference", "signature wrapping (SWA) and byte ranges", False, MODIFIED,
         lambda pki: _skip_range(pki)),
    case("second-signature-covers-less", "signature wrapping (SWA) and byte ranges", False, MODIFIED,
         lambda pki: _short_second(pki)),
    case("swa-gap-wider-than-signature", "signature wrapping (SWA) and byte ranges", False, MODIFIED,
         lambda pki: _wrapped(pki)),
    case("byte-flipped", "damaged files", False, INVALID, signed(documents.fpdf, sign(A), edit(edits.flip_byte))),
    case("truncated", "damaged files", False, Code.NOT_A_PDF, signed(documents.fpdf, sign(A), edit(edits.truncate)),
         reason="damaged"),
    case("truncated-in-last-revision", "damaged files", False, Code.NOT_A_PDF,
         signed(documents.fpdf, sign(A), sign(B), edit(edits.cut_tail, 200)), reason="damaged"),
]


# --- active content from the start, signed or not ----------------------------------------------------

CASES += [
    case("links-and-bookmarks", "producers", True, OK, signed(documents.with_links, sign(A), sign(B)), signer=A),
    case("unsigned-javascript", "active content", False, ACTIVE, signed(documents.with_javascript)),
    case("signed-javascript-open-action", "active content", False, ACTIVE, signed(documents.with_javascript, sign(A))),
    case("signed-launch-link", "active content", False, ACTIVE, signed(documents.with_launch_link, sign(A))),
    case("signed-page-submit-action", "active content", False, ACTIVE, signed(documents.with_page_actions, sign(A))),
    case("signed-bookmark-script", "active content", False, ACTIVE, signed(documents.with_bookmark_script, sign(A))),
    case("signed-embedded-executable", "active content", False, ACTIVE, signed(documents.with_attachment, sign(A))),
    case("signed-rich-media", "active content", False, ACTIVE, signed(documents.with_rich_media, sign(A))),
]

# --- attacks that dress a forbidden change as a permitted one, or make readers disagree ----------------

LAUNCH = {forge.pdf_name("/A"): forge.generic.DictionaryObject({
    forge.pdf_name("/S"): forge.pdf_name("/Launch"), forge.pdf_name("/F"): forge.pdf_string("cmd.exe")})}
SCRIPTED = {forge.pdf_name("/AA"): tricks.JAVASCRIPT}
CASES += [
    case("empty-signature-field-with-javascript", "active content", False, ACTIVE,
         signed(documents.fpdf, sign(A), edit(tricks.empty_signature_field(SCRIPTED)))),
    case("empty-signature-field-with-launch-after-p2", "active content", False, ACTIVE,
         signed(documents.form, sign(A, certify=True, docmdp=2), edit(tricks.empty_signature_field(LAUNCH)))),
    case("empty-signature-field-for-next-signer", "multi-signature", True, OK,
         signed(documents.fpdf, sign(A), edit(tricks.empty_signature_field(rect=(400, 120, 560, 170))),
                sign(B, field_name="Sig9")), signer=A),
    case("free-text-dressed-as-signature-widget", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.fpdf, sign(A), edit(tricks.free_text_as_signature_widget))),
    case("existing-note-hijacked-as-widget", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.commented, sign(A), edit(tricks.hijack_note))),
    case("signed-value-taken-off-the-page", "shadow attack (hide)", False, MODIFIED,
         signed(documents.form, sign(A, field_name="President"), edit(tricks.remove_widget_from_page("amount"))),
         refused={"form_changed"}),
    case("content-stream-dressed-as-signature-field", "incremental content replacement", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(tricks.content_stream_as_field)), refused={"page_content"}),
    case("need-appearances-shadow", "shadow attack (replace)", False, MODIFIED,
         signed(tricks.need_appearances_shadow, sign(A), edit(tricks.switch_need_appearances)),
         refused={"field_value_replaced"}),
    case("note-overprints-one-digit", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(tricks.overprint_digit)), signer=A,
         refused={"annotation_changed"}),
    case("placeholder-moved-over-text-when-signed", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.form, sign(A, field_name="President"), with_pki(tricks.sign_placeholder_moved_over_text))),
    case("generation-number-differential", "incremental saving attack (ISA)", False, MODIFIED,
         signed(documents.classic, sign(A), edit(tricks.generation_bump))),
    case("object-stream-lists-page-twice", "incremental saving attack (ISA)", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(tricks.object_stream_twice))),
    case("check-box-ticked-with-signer", "form filling", True, OK,
         signed(documents.form, sign(A, field_name="President"), edit(edits.pyhanko_check("agree"))), signer=A),
]


# --- second round: reader differentials, and other producers' genuine files ----------------------------

D = differentials
CASES += [
    case("object-stream-rewritten-font", "incremental saving attack (ISA)", False, MODIFIED,
         signed(D.object_stream_base, sign(A), edit(D.rewrite_object_stream(D.font_draws_nine_for_one)))),
    case("object-stream-rewritten-after-lta", "incremental saving attack (ISA)", False, MODIFIED,
         signed(D.object_stream_base, sign(A, level="B-LTA"), sign(B, box=BOTTOM_RIGHT),
                edit(D.rewrite_object_stream(D.font_draws_nine_for_one)))),
    case("object-stream-rewritten-page-tree", "page changes", False, MODIFIED,
         signed(lambda: D.object_stream_base(pages=2), sign(A),
                edit(D.rewrite_object_stream(D.tree_drops_second_page)))),
    case("page-count-lowered", "page changes", False, MODIFIED,
         signed(documents.two_pages, sign(A), edit(D.set_page_count(1))), refused={"page_changed"}),
    case("page-count-raised-reveals-annex", "shadow attack (hide)", False, MODIFIED,
         signed(D.one_page_counted_over_two, sign(A), edit(D.set_page_count(2)))),
    case("annotations-reordered", "shadow attack (replace)", False, MODIFIED,
         signed(D.stacked_stamps, sign(A), edit(D.reverse_annotations)), refused={"annotation_changed"}),
    case("note-flags-written-as-string", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(D.note_with_string_flags)), signer=A, reason="covered"),
    case("black-highlight-over-amount", "sneaky signatures and overlays", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(D.black_bar_highlight)), signer=A, reason="covered"),
    case("signature-value-cloned", "universal signature forgery (USF)", False, MODIFIED,
         signed(documents.xref_stream, sign(A), edit(D.clone_signature)), refused={"signature_replaced"}),
    case("page-that-is-a-stream", "shadow attack (hide-and-replace)", False, MODIFIED,
         signed(D.page_that_is_a_stream, sign(A), edit(D.swap_page_stream)), refused={"page_content"}),
    case("placeholder-signed-by-itext", "multi-signature", True, OK,
         signed(D.documents_form_printable, sign(A, field_name="President"),
                D.sign_placeholder_as(D.itext_locked_flag)), signer=A),
    case("placeholder-signed-with-lock", "locks", True, OK,
         signed(D.documents_form_printable, sign(A, field_name="President"),
                D.sign_placeholder_as(D.lock_written_at_signing)), signer=A),
    case("placeholder-signed-tagged", "multi-signature", True, OK,
         signed(D.documents_form_printable, sign(A, field_name="President"), D.sign_placeholder_as(D.tagged_widget)),
         signer=A),
    case("list-box-filled", "form filling", True, OK,
         signed(D.other_fields_form, sign(A), edit(D.list_box_filled)), signer=A, changes={"form_filled"}),
    case("pypdf-fill-beside-choice-octal-and-glyph-fields", "form filling", True, OK,
         signed(D.other_fields_form, sign(A), edit(edits.pypdf_fill({"observations": "Dossier complet"})))),
]


def by_name(name) -> Case:
    return next(c for c in CASES if c.name == name)


def load(pki, name) -> bytes:
    return by_name(name).make(pki)


def write_all(pki, directory) -> list[dict]:
    from pathlib import Path

    manifest = []
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for c in CASES:
        data = c.make(pki)
        (directory / f"{c.name}.pdf").write_bytes(data)
        manifest.append({"file": f"{c.name}.pdf", "class": c.klass, "genuine": c.genuine,
                         "expect": str(c.expect) if c.expect else "refused", **{
                             k: v for k, v in c.options.items() if k in ("signer", "reason")}})
    return manifest


__all__ = ["CASES", "by_name", "io", "load", "write_all"]
