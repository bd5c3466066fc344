"""The signatures app's use cases: verify an uploaded PDF, sign a PDF, seal what the platform
issues.

- ``verify_pdf(data, *, signer_must_be=None)`` -> ``VerificationReport``
  (``signatures.verification``)
- ``check_officer_signature(data, collectivity)`` -> the same report, refused unless an active officer
  of that collectivity signed (every PDF a collectivity uploads: dossier documents, correction proofs)
- ``sign_pdf(data, signer, *, level=...)`` -> signed bytes (``signatures.signing``)
- ``seal_document(doc)`` -> the rendered and sealed PDF of an ``IssuedDocument`` (French and Arabic,
  ``signatures.rendering``)
"""

from django.conf import settings

from .rendering import IssuedDocument, Table, moment, render_pdf
from .signing import (
    SigningError,
    local_timestamper,
    pkcs11_signer,
    sign_pdf,
    signer_from_keys,
    signer_from_p12,
)
from .verification import MESSAGES, Code, SignatureReport, VerificationReport, verify_pdf

__all__ = [
    "MESSAGES", "Code", "IssuedDocument", "SignatureReport", "SigningError", "Table", "VerificationReport",
    "check_officer_signature", "local_timestamper", "moment", "officer_cins", "pkcs11_signer", "render_pdf",
    "seal_document", "seal_signer",
    "sign_pdf", "signer_from_keys", "signer_from_p12", "verify_pdf",
]


def officer_cins(collectivity) -> set[str]:
    """The CINs of the active officers of a collectivity (instance or id): who may sign its documents."""
    from accounts.models import User

    return set(User.objects.filter(collectivity=collectivity, is_active=True, role__in=[
        User.Role.MANAGER, User.Role.AGENT]).exclude(cin=None).values_list("cin", flat=True))


def check_officer_signature(data: bytes, collectivity) -> VerificationReport:
    """The verifier's report, with the signer matched against the collectivity's officers
    (``SIGNER_NOT_AUTHORISED`` when no signature is theirs)."""
    report = verify_pdf(data)
    if report.accepted:
        officers = officer_cins(collectivity)
        if not any(s.signer_cin in officers for s in report.signatures):
            report.code = Code.SIGNER_NOT_AUTHORISED
    return report


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
