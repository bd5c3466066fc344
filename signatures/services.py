"""The signatures app's use cases: verify an uploaded PDF, sign a PDF, seal what the platform
issues.

- ``verify_pdf(data, *, signer_must_be=None)`` -> ``VerificationReport``
  (``signatures.verification``)
- ``check_officer_signature(data, officers)`` -> the same report, refused unless one of ``officers``
  (``accounts.selectors.signing_officers``: plain data, this app imports no other) signed, with his
  certificate's CIN and name, and nothing added after his signature covers what he signed (every PDF
  a collectivity uploads: dossier documents, correction proofs)
- ``sign_pdf(data, signer, *, level=...)`` -> signed bytes (``signatures.signing``)
- ``seal_document(doc)`` -> the rendered and sealed PDF of an ``IssuedDocument`` (French and Arabic,
  ``signatures.rendering``)
- ``check_signed_issue(data, issued, officers)`` -> the report on ``data``, refused unless it is the
  unsigned PDF ``issued`` (bytes the platform gave out) signed, unchanged, by one of ``officers``
  (a transmittal slip signed with the certifier's token)
- ``seal_signed(data, reason=...)`` -> ``data`` with the platform's seal added after its signatures
"""

import io
import logging

from django.conf import settings
from pyhanko.pdf_utils.reader import PdfFileReader

from eretraite import antivirus

from . import changes as diff
from .rendering import IssuedDocument, Table, moment, render_pdf
from .signing import (
    SigningError,
    local_timestamper,
    pkcs11_signer,
    sign_pdf,
    signer_from_keys,
    signer_from_p12,
)
from .verification import MESSAGES, Code, SignatureReport, Signer, VerificationReport, verify_pdf

__all__ = [
    "MESSAGES", "Code", "IssuedDocument", "SignatureReport", "SigningError", "Table", "VerificationReport",
    "Signer", "check_officer_signature", "check_signed_issue", "local_timestamper", "moment", "pkcs11_signer",
    "render_pdf", "seal_document", "seal_signed", "seal_signer",
    "sign_pdf", "signer_from_keys", "signer_from_p12", "verify_pdf",
]


def check_officer_signature(data: bytes, officers) -> VerificationReport:
    """The verifier's report, with the signature matched against ``officers`` (dicts with ``cin``,
    ``full_name``, ``account_id``, ``on_behalf_of_id``): ``SIGNER_NOT_AUTHORISED``, naming who signed
    and who was expected, when none of them signed; ``report.signer`` is the one who did.
    The file is first scanned for viruses (``eretraite.antivirus``, when configured): ``INFECTED``, or
    ``SCANNER_UNAVAILABLE`` when the scanner gives no verdict (never let through unscanned)."""
    try:
        verdict = antivirus.scan(data)
    except antivirus.ScannerUnavailable as exc:
        return VerificationReport(Code.SCANNER_UNAVAILABLE, detail=str(exc)[:200])
    if not verdict.clean:
        return VerificationReport(Code.INFECTED, detail=verdict.threat)
    return verify_pdf(data, signers=[Signer(**officer) for officer in officers])


log = logging.getLogger(__name__)

# What the signer's own revision may change in the document it signs: his signature (its field, its
# appearance), and bookkeeping. Anything else means he did not sign the document as it was issued.
AS_ISSUED = frozenset({diff.Kind.SIGNATURE_ADDED, diff.Kind.METADATA, diff.Kind.VALIDATION_DATA,
                       diff.Kind.STRUCTURE})
# What may follow his signature in the file he uploads: long-term validation data, timestamps, metadata.
AFTER_HIS_SIGNATURE = frozenset({diff.Kind.VALIDATION_DATA, diff.Kind.DOCUMENT_TIMESTAMP, diff.Kind.METADATA})


def check_signed_issue(data: bytes, issued: bytes, officers) -> VerificationReport:
    """``check_officer_signature(data, officers)``, and ``data`` must be ``issued`` (an unsigned PDF the
    platform gave out to be signed) signed as it was: ``issued`` is the start of ``data`` byte for byte,
    the officer's signature is the first one and is in the revision right after it, and that revision
    changes nothing in the document but adding the signature. Otherwise ``MODIFIED_AFTER_SIGNING``
    with the reason ``not_issued`` (another document, another copy, or a change before signing)."""
    report = check_officer_signature(data, officers)
    if not report.accepted:
        return report
    if not _signed_as_issued(bytes(data), bytes(issued), report.signatures[report.signer_index].field_name):
        return VerificationReport(Code.MODIFIED_AFTER_SIGNING, report.signatures, reason="not_issued",
                                  signer=report.signer, signer_index=report.signer_index)
    return report


def _signed_as_issued(data: bytes, issued: bytes, field_name: str) -> bool:
    if not issued or not data.startswith(issued):
        return False
    try:
        base = PdfFileReader(io.BytesIO(issued), strict=False).xrefs.total_revisions
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = [e for e in reader.embedded_signatures if e.sig_object_type == "/Sig"]
        if not signatures or any(e.signed_revision < base for e in reader.embedded_signatures):
            return False
        first = min(signatures, key=lambda e: e.signed_revision)
        if first.field_name != field_name or first.signed_revision != base:
            return False  # another signature first, or a revision between the issued file and his
        _, len1, start2, len2 = first.byte_range
        if start2 + len2 < len(issued):
            return False
        signed = PdfFileReader(io.BytesIO(data[:start2 + len2]), strict=False)
        if signed.xrefs.total_revisions != base + 1:
            return False
        if not all(change.kind in AS_ISSUED for change in diff.changes_after(signed, base - 1)):
            return False
        # After his signature, nothing that is drawn: the platform seals exactly what he signed (no comment,
        # no stamp, no box over a digest or a name, whatever a certification's DocMDP level would permit).
        return reader.xrefs.total_revisions == base + 1 or all(
            change.kind in AFTER_HIS_SIGNATURE for change in diff.changes_after(reader, base))
    except Exception:  # noqa: BLE001 - unreadable or hostile: not the issued document
        log.info("signed copy of an issued document refused", exc_info=True)
        return False


def seal_signed(data: bytes, *, reason: str, signer=None) -> bytes:
    """Add the platform's seal after the signatures ``data`` already carries: an approval signature
    (a certification signature must come first), so ``verify_pdf`` still accepts every signature."""
    return sign_pdf(data, signer or seal_signer(), field_name="PlatformSeal", reason=reason)


def seal_signer():
    """The platform's seal, from ``SIGNATURES_SEAL_P12`` and ``SIGNATURES_SEAL_P12_PASSWORD``."""
    if not settings.SIGNATURES_SEAL_P12:
        raise SigningError("no platform seal configured (SIGNATURES_SEAL_P12)")
    return signer_from_p12(settings.SIGNATURES_SEAL_P12, settings.SIGNATURES_SEAL_P12_PASSWORD)


def seal_document(doc: IssuedDocument, *, signer=None) -> bytes:
    """Render ``doc`` to PDF and seal it with the platform certificate.

    A certification signature: any later change but validation data and timestamps breaks it,
    so anyone can check the document with ``verify_pdf`` (or any PAdES validator).
    """
    return sign_pdf(
        render_pdf(doc),
        signer or seal_signer(),
        field_name="PlatformSeal",
        reason=f"Issued by {doc.issuer}: {doc.reference}",
        certify=True,
    )
