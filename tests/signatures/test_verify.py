"""verify_pdf: every bad input and attack comes back with its code, never an exception;
legitimate documents (several signatures, LTV updates, timestamps) are accepted."""

import datetime as dt
import io
import os
from types import SimpleNamespace

import pytest
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.validation import add_validation_info

from signatures.services import Code, verify_pdf
from signatures.signing import sign_pdf
from tests.pki import sample_pdf

from . import forge

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pki_settings")]


def verdict(data, **kwargs):
    report = verify_pdf(data, **kwargs)
    assert report.accepted == (report.code == Code.OK)
    assert str(report.message)  # every code tells the officer something
    return report


@pytest.fixture
def signed(pki):
    return pki.sign(sample_pdf(), "AB123456")


# --- legitimate documents --------------------------------------------------------------------

def test_signed_by_valid_officer_is_accepted_with_every_field(signed):
    report = verdict(signed, signer_must_be="AB123456")
    assert report.code == Code.OK and report.accepted
    (sig,) = report.signatures
    assert sig.signer == "Amina El Idrissi" and sig.signer_cin == "AB123456"
    assert "Barid eSign" in sig.issuer and sig.serial
    assert sig.signing_time is not None
    assert sig.intact and sig.valid and sig.trusted
    assert sig.coverage == "ENTIRE_FILE" and not sig.modified_after_signing
    assert sig.modification_level == "NONE"
    assert not sig.revoked and not sig.expired and not sig.timestamped
    assert sig.pades_level == "B-B" and sig.digest_algorithm == "sha256"


def test_signer_matched_on_an_account(signed):
    officer = SimpleNamespace(cin="ab123456", full_name="Amina El Idrissi")
    assert verdict(signed, signer_must_be=officer).code == Code.OK
    assert verdict(signed, signer_must_be=SimpleNamespace(cin=None)).code == \
        Code.SIGNER_NOT_AUTHORISED


def test_two_signatures_are_accepted(pki, signed):
    both = pki.sign(signed, "CD789012")
    report = verdict(both, signer_must_be="CD789012")
    assert report.code == Code.OK
    first, second = report.signatures
    assert first.coverage == "ENTIRE_REVISION" and first.modification_level == "FORM_FILLING"
    assert second.coverage == "ENTIRE_FILE"
    assert verdict(both, signer_must_be="AB123456").code == Code.OK


@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_timestamped_and_long_term_signatures_are_accepted(pki, level):
    report = verdict(pki.sign(sample_pdf(), "AB123456", level=level))
    assert report.code == Code.OK, report.detail
    (sig,) = report.signatures
    assert sig.timestamped and sig.pades_level == level


def test_validation_data_and_document_timestamp_added_after_signing(pki, signed):
    emb = forge_reader(signed).embedded_signatures[0]
    out = io.BytesIO()
    add_validation_info(emb, pki.trust.validation_context(), output=out)
    with_dss = out.getvalue()
    report = verdict(with_dss)
    assert report.code == Code.OK and report.signatures[0].modification_level == "LTA_UPDATES"

    writer = forge.IncrementalPdfFileWriter(io.BytesIO(with_dss), strict=False)
    stamped = signers.PdfTimeStamper(pki.timestamper()).timestamp_pdf(
        writer, "sha256", validation_context=pki.trust.validation_context()).getvalue()
    report = verdict(stamped)
    assert report.code == Code.OK, report.detail
    assert report.signatures[0].timestamped and report.signatures[0].pades_level == "B-LTA"


def test_expired_since_but_timestamped_while_valid_is_accepted(pki):
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa = pki.credential("tsa")
    signed_then = DummyTimeStamper(
        tsa_cert=forge_cert(tsa), tsa_key=forge_key(tsa),
        fixed_dt=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    data = pki.sign(sample_pdf(), "FG901234", level="B-T", timestamper=signed_then)
    report = verdict(data)
    assert report.code == Code.OK, report.detail
    assert not report.signatures[0].expired


@pytest.mark.parametrize("days_ago, code", [(5, Code.OK), (1, Code.CERTIFICATE_REVOKED)])
def test_revoked_since_but_timestamped_before(pki, days_ago, code):
    """The officer's certificate was revoked 2 days ago: a timestamp from before still holds."""
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa = pki.credential("tsa")
    stamper = DummyTimeStamper(
        tsa_cert=forge_cert(tsa), tsa_key=forge_key(tsa),
        fixed_dt=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago))
    report = verdict(pki.sign(sample_pdf(), "EE345678", level="B-T", timestamper=stamper))
    assert report.code == code, report.detail


def test_weak_rsa_key(pki):
    from cryptography.hazmat.primitives import serialization

    from signatures import testpki
    from signatures.signing import signer_from_keys

    key = testpki._key(1024)
    now = dt.datetime.now(dt.UTC)
    cert = testpki._cert(testpki._name("Weak Key", serial_number="WK000001"), key,
                         pki.pki.ca.cert.subject, pki.pki.ca.key,
                         not_before=now - dt.timedelta(days=1),
                         not_after=now + dt.timedelta(days=9))
    der = serialization.Encoding.DER
    signer = signer_from_keys(cert.public_bytes(der), key.private_bytes(
        der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        [pki.pki.ca.cert.public_bytes(der)])
    assert verdict(sign_pdf(sample_pdf(), signer)).code == Code.WEAK_ALGORITHM


def test_platform_seal_is_verifiable(pki):
    from signatures.services import IssuedDocument, seal_document

    doc = IssuedDocument("Accusé de réception", "D-2026-0001", dt.datetime.now(dt.UTC),
                         fields=[("Dossier", "Retraite")])
    sealed = seal_document(doc)
    report = verdict(sealed)
    assert report.code == Code.OK and report.signatures[0].signer == "e-retraite platform seal"
    assert verdict(forge.add_annotation(sealed)).code == Code.MODIFIED_AFTER_SIGNING


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"", b"hello, this is not a PDF", b"\x89PNG\r\n\x1a\n" + os.urandom(500),
    b"%PDF-1.7\n" + os.urandom(2000), b"%PDF-1.7\n%%EOF"])
def test_not_a_pdf(data):
    assert verdict(data).code == Code.NOT_A_PDF


def test_truncated(signed):
    assert verdict(signed[: len(signed) // 2]).code == Code.NOT_A_PDF
    # cut in the last bytes: the signature no longer matches what remains
    assert verdict(signed[:-30]).code in (Code.NOT_A_PDF, Code.MODIFIED_AFTER_SIGNING,
                                          Code.SIGNATURE_INVALID)


def test_encrypted():
    writer = PdfFileWriter()
    writer.insert_page(forge.PageObject(forge.stream(writer, forge.text_ops("secret")), forge.A4,
                                        forge.HELVETICA))
    writer.encrypt("owner-password", "user-password")
    assert verdict(forge.write(writer)).code == Code.ENCRYPTED


def test_too_large(settings, signed):
    settings.SIGNATURES_MAX_BYTES = len(signed) - 1
    assert verdict(signed).code == Code.TOO_LARGE
    settings.SIGNATURES_MAX_BYTES = len(signed)
    assert verdict(signed).code == Code.OK


def test_no_signature():
    assert verdict(sample_pdf()).code == Code.NO_SIGNATURE


def test_garbage_in_signature_contents(signed):
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    broken = signed[:start] + b"3082" + b"ff" * 200 + signed[start + 404:]
    assert len(broken) == len(signed)
    assert verdict(broken).code == Code.SIGNATURE_INVALID


# --- attacks ---------------------------------------------------------------------------------

def test_byte_changed_inside_signed_range(signed):
    assert b"(TEST-1)" in signed  # the reference, in the document information (the page text is compressed)
    assert verdict(signed.replace(b"(TEST-1)", b"(TEST-9)", 1)).code == Code.SIGNATURE_INVALID


@pytest.mark.parametrize("attack", [forge.add_page, forge.replace_text, forge.add_annotation,
                                    forge.overlay])
def test_incremental_update_after_signing(signed, attack):
    report = verdict(attack(signed))
    assert report.code == Code.MODIFIED_AFTER_SIGNING
    assert report.signatures[0].modified_after_signing
    assert report.signatures[0].intact  # the signature itself is fine: what follows is not


@pytest.mark.parametrize("attack", [forge.add_page, forge.replace_text, forge.add_annotation,
                                    forge.overlay])
def test_update_between_two_signatures(pki, signed, attack):
    """Someone changes the document, then adds a valid signature of his own on top."""
    report = verdict(pki.sign(attack(signed), "CD789012"))
    assert report.code == Code.MODIFIED_AFTER_SIGNING
    first, second = report.signatures
    assert first.modified_after_signing and not second.modified_after_signing


def test_visible_signature_over_the_signers_content(pki, signed):
    """Sneaky signature: a later signer's visible appearance can be drawn over the text."""
    covered = pki.sign(signed, "CD789012", box=(50, 690, 350, 740))
    report = verdict(covered, signer_must_be="AB123456")
    assert report.code == Code.MODIFIED_AFTER_SIGNING
    # signing last, or an invisible later signature, is fine
    assert verdict(covered, signer_must_be="CD789012").code == Code.OK
    assert verdict(pki.sign(signed, "CD789012"), signer_must_be="AB123456").code == Code.OK
    first_visible = pki.sign(pki.sign(sample_pdf(), "CD789012", box=(50, 50, 250, 100)),
                             "AB123456", box=(300, 50, 500, 100))
    assert verdict(first_visible, signer_must_be="AB123456").code == Code.OK


def test_shadow_hide(pki):
    document, cover = forge.shadow_hide_document()
    signed = pki.sign(document, "AB123456")
    assert verdict(signed).code == Code.OK
    assert verdict(forge.shadow_hide(signed, cover)).code == Code.MODIFIED_AFTER_SIGNING


def test_shadow_replace(pki):
    signed = pki.sign(forge.shadow_replace_document(), "AB123456")
    assert verdict(signed).code == Code.OK
    assert verdict(forge.shadow_replace(signed)).code == Code.MODIFIED_AFTER_SIGNING
    # also when a second (valid) signature is added after the replacement
    resigned = pki.sign(forge.shadow_replace(signed), "CD789012")
    assert verdict(resigned).code == Code.MODIFIED_AFTER_SIGNING


def test_shadow_hide_and_replace(pki):
    document, orphan = forge.shadow_hide_and_replace_document()
    signed = pki.sign(document, "AB123456")
    assert verdict(signed).code == Code.OK
    attacked = forge.shadow_hide_and_replace(signed, orphan)
    assert verdict(attacked).code == Code.MODIFIED_AFTER_SIGNING


def test_byte_range_that_skips_part_of_the_file(pki, signed):
    reference = signed.index(b"(TEST-1)")
    forged = forge.resign_byte_range(
        signed, pki.signer("AB123456"),
        lambda start, end, size: (0, reference - 1, end, size - end))
    forged = forged.replace(b"(TEST-1)", b"(TEST-9)", 1)  # in the gap: not covered
    report = verdict(forged)
    assert report.signatures[0].intact  # the digest of the chosen range matches...
    assert report.code == Code.MODIFIED_AFTER_SIGNING  # ...but it does not cover the file
    assert report.signatures[0].coverage == "UNCLEAR"


def test_second_signature_covers_less(pki, signed):
    both = pki.sign(signed, "CD789012")
    forged = forge.resign_byte_range(
        both, pki.signer("CD789012"),
        lambda start, end, size: (0, start, end, size - end - 40))
    report = verdict(forged)
    assert report.code == Code.MODIFIED_AFTER_SIGNING
    assert report.signatures[1].intact and report.signatures[1].coverage != "ENTIRE_FILE"


def test_certification_forbids_later_signature(pki, monkeypatch):
    certified = pki.sign(sample_pdf(), "AB123456", certify=True)
    assert verdict(certified).code == Code.OK
    # pyHanko refuses to sign a document certified "no changes"; a careless tool would not.
    monkeypatch.setattr("pyhanko.sign.validation.read_certification_data", lambda reader: None)
    countersigned = pki.sign(certified, "CD789012")
    report = verdict(countersigned)
    assert report.code == Code.MODIFIED_AFTER_SIGNING
    assert report.signatures[0].modified_after_signing


def test_sha1(pki):
    data = sign_pdf(sample_pdf(), pki.signer("AB123456"), md_algorithm="sha1")
    report = verdict(data)
    assert report.code == Code.WEAK_ALGORITHM
    assert report.signatures[0].digest_algorithm == "sha1"


def test_untrusted_root(pki):
    # same name and CIN as a real officer, issued by a CA nobody configured
    report = verdict(pki.sign(sample_pdf(), "rogue-officer"), signer_must_be="AB123456")
    assert report.code == Code.UNTRUSTED_CERTIFICATE
    assert not report.signatures[0].trusted


def test_untrusted_when_no_root_is_configured(settings, signed):
    settings.SIGNATURES_TRUST_ROOTS = []
    assert verdict(signed).code == Code.UNTRUSTED_CERTIFICATE


def test_revoked(pki):
    report = verdict(pki.sign(sample_pdf(), "EE345678"))
    assert report.code == Code.CERTIFICATE_REVOKED and report.signatures[0].revoked


def test_expired(pki):
    report = verdict(pki.sign(sample_pdf(), "FG901234"))
    assert report.code == Code.CERTIFICATE_EXPIRED and report.signatures[0].expired


def test_someone_elses_valid_signature(pki):
    data = pki.sign(sample_pdf(), "CD789012")
    assert verdict(data).code == Code.OK
    report = verdict(data, signer_must_be=SimpleNamespace(cin="AB123456", full_name="A"))
    assert report.code == Code.SIGNER_NOT_AUTHORISED and not report.accepted


def test_platform_seal_is_not_an_officer(pki):
    from signatures.services import IssuedDocument, seal_document

    sealed = seal_document(IssuedDocument("Certificat", "C-1", dt.datetime.now(dt.UTC)))
    assert verdict(sealed, signer_must_be="AB123456").code == Code.SIGNER_NOT_AUTHORISED


def test_worst_problem_wins_over_a_good_signature(pki, signed):
    """A valid first signature does not excuse a revoked second one."""
    report = verdict(pki.sign(signed, "EE345678"), signer_must_be="AB123456")
    assert report.code == Code.CERTIFICATE_REVOKED


# helpers

def forge_reader(data):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data), strict=False)


def forge_cert(cred):
    from asn1crypto import x509

    return x509.Certificate.load(cred.cert.public_bytes(forge_der()))


def forge_key(cred):
    from asn1crypto import keys
    from cryptography.hazmat.primitives import serialization

    return keys.PrivateKeyInfo.load(cred.key.private_bytes(
        forge_der(), serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def forge_der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER



def test_adobe_pkcs7_detached_signature_is_accepted_but_not_pades(pki):
    """Older tools sign with adbe.pkcs7.detached: a valid signature, just not PAdES."""
    from pyhanko.sign import fields
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

    writer = forge.IncrementalPdfFileWriter(io.BytesIO(sample_pdf()), strict=False)
    meta = PdfSignatureMetadata(field_name="Adobe", md_algorithm="sha256",
                                subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED)
    data = PdfSigner(meta, signer=pki.signer("AB123456")).sign_pdf(writer).getvalue()
    report = verdict(data, signer_must_be="AB123456")
    assert report.code == Code.OK and report.signatures[0].pades_level is None
