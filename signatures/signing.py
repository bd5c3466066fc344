"""Sign PDFs (PAdES B-B to B-LTA) with a PKCS#12 file or a PKCS#11 token (class-3, SoftHSM2)."""

import contextlib
import io
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .trust import TrustStore, trust_store_from_settings

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


class SigningError(Exception):
    """The document could not be signed (bad key, token, PDF or configuration)."""


def signer_from_p12(p12, password: str | bytes | None) -> signers.Signer:
    """A signer from PKCS#12 bytes or a path to a ``.p12``/``.pfx`` file."""
    data = Path(p12).read_bytes() if isinstance(p12, str | Path) else p12
    if isinstance(password, str):
        password = password.encode()
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=password)
    except Exception as exc:
        raise SigningError(f"cannot read the PKCS#12 file: {exc}") from exc
    if signer is None:
        raise SigningError("cannot read the PKCS#12 file (wrong password?)")
    return signer


def signer_from_keys(cert_der: bytes, key_der: bytes, chain_ders=()) -> signers.Signer:
    """A signer from a DER certificate, a DER PKCS#8 key and the issuing CAs' DER certificates."""
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(d) for d in chain_ders]),
    )


@contextlib.contextmanager
def pkcs11_signer(lib: str, *, token_label: str, key_label: str, pin: str, cert_label=None,
                  chain_ders=()):
    """A signer on a PKCS#11 token; the session is open for the ``with`` block only."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(lib, token_criteria=TokenCriteria(label=token_label),
                                      user_pin=pin)
    except Exception as exc:
        raise SigningError(f"cannot open the PKCS#11 token {token_label!r}: {exc}") from exc
    try:
        yield PKCS11Signer(
            session, key_label=key_label, cert_label=cert_label or key_label,
            ca_chain=[asn1_x509.Certificate.load(d) for d in chain_ders],
        )
    finally:
        session.close()


def timestamper_from_settings():
    if settings.SIGNATURES_TSA_URL:
        return timestamps.HTTPTimeStamper(settings.SIGNATURES_TSA_URL,
                                          timeout=settings.SIGNATURES_FETCH_TIMEOUT)
    return None


def local_timestamper(p12, password) -> timestamps.TimeStamper:
    """A timestamping authority run in-process from a TSA certificate (demo and tests only)."""
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa = signer_from_p12(p12, password)
    return DummyTimeStamper(tsa_cert=tsa.signing_cert, tsa_key=tsa.signing_key,
                            certs_to_embed=list(tsa.cert_registry))


def run_coroutine(coro):
    from .verification import _run

    return _run(coro)


def sign_pdf(data: bytes, signer: signers.Signer, *, level: str = "B-B", field_name=None,
             reason=None, location=None, name=None, timestamper=None,
             trust: TrustStore | None = None, certify: bool = False, docmdp: int = 1,
             lock_fields=None, md_algorithm: str = "sha256", box=None, page: int = 0,
             stamp_style=None) -> bytes:
    """Sign ``data`` as an incremental update and return the signed PDF.

    ``level``: B-B (signature only), B-T (plus a signature timestamp), B-LT (plus the chain's
    revocation data embedded in a DSS), B-LTA (plus a document timestamp). From B-T up a
    timestamper is needed: ``timestamper`` or ``SIGNATURES_TSA_URL``. ``certify`` makes a
    certification signature that forbids any later change but validation data and timestamps.
    ``box`` (x1, y1, x2, y2 in points on ``page``) makes the signature visible; it is invisible
    otherwise.
    """
    if level not in LEVELS:
        raise SigningError(f"unknown PAdES level {level!r}; choose one of {', '.join(LEVELS)}")
    if level != "B-B":
        timestamper = timestamper or timestamper_from_settings()
        if timestamper is None:
            raise SigningError(f"{level} needs a timestamping authority (SIGNATURES_TSA_URL)")
    long_term = level in ("B-LT", "B-LTA")
    field_name = field_name or _free_field_name(data)
    lock = None
    if lock_fields == "all":
        lock = fields.FieldMDPSpec(fields.FieldMDPAction.ALL)
    elif lock_fields:
        lock = fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=list(lock_fields))
    field_spec = fields.SigFieldSpec(field_name, box=box, on_page=page, field_mdp_spec=lock) \
        if box or lock else None
    meta = PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=md_algorithm,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=name,
        certify=certify,
        docmdp_permissions=fields.MDPPerm(docmdp),
        embed_validation_info=long_term,
        validation_context=(trust or trust_store_from_settings()).validation_context()
        if long_term else None,
        use_pades_lta=level == "B-LTA",
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        if lock is not None:
            _lock_existing_field(writer, field_name, lock)
        pdf_signer = PdfSigner(meta, signer=signer, timestamper=timestamper, new_field_spec=field_spec,
                               stamp_style=stamp_style)
        # The async entry point, run on a private loop when one is already running (browser tests,
        # ASGI): pyHanko's sync wrapper calls asyncio.run and fails there.
        out = run_coroutine(pdf_signer.async_sign_pdf(
            writer, bytes_reserved=32768 if level != "B-B" else 16384))
    except SigningError:
        raise
    except Exception as exc:
        hint = (" (B-LT needs the signer's chain trusted and its CRLs: SIGNATURES_TRUST_ROOTS, "
                "SIGNATURES_CRLS)" if long_term and "validated" in str(exc) else "")
        raise SigningError(f"cannot sign the PDF: {exc}{hint}") from exc
    return out.getvalue()


def _lock_existing_field(writer, field_name, lock):
    """An existing empty signature field takes its lock from its own /Lock entry (pyHanko applies a
    new field's spec only to fields it creates): write it there, in the signature's update."""
    for name, _, ref in fields.enumerate_sig_fields(writer, filled_status=False):
        if name == field_name:
            ref.get_object()[generic.pdf_name("/Lock")] = lock.as_pdf_object()
            writer.mark_update(ref)


def _free_field_name(data: bytes) -> str:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    try:
        taken = {name for name, _, _ in enumerate_sig_fields(
            PdfFileReader(io.BytesIO(data), strict=False))}
    except Exception:  # noqa: BLE001 - the signer will report an unreadable PDF
        taken = set()
    number = 1
    while f"Signature{number}" in taken:
        number += 1
    return f"Signature{number}"
