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
"""

from django.conf import settings

from eretraite import antivirus

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
    "Signer", "check_officer_signature", "local_timestamper", "moment", "pkcs11_signer", "render_pdf",
    "seal_document", "seal_signer",
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
