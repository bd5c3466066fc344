"""Verify the PAdES signatures of an uploaded PDF: one verdict code, and a report per signature.

The most security-critical code of the project. Rules, in order:

1. The file must be a readable, unencrypted PDF within the size limit.
2. Every signature (``/Sig``) must be intact (its digest matches), valid (cryptography), made with
   a strong algorithm, by a certificate that chains to a configured root, was not revoked and was
   within its validity period (at the time of a trusted signature timestamp, else now).
3. Every signature must cover its whole revision, and what follows it must be legitimate: only
   further signatures (new signature fields, nothing else, no form values, no annotations) after an
   earlier signature, and only validation data and document timestamps after the last one. That is
   pyHanko's difference analysis with a stricter policy, plus our own reading of its coverage and
   modification level: ``bottom_line`` alone is not enough (NOTES.md).
4. Certification (DocMDP) permissions of the signature in force must not be exceeded.
5. Document timestamps, where present, must be intact and valid.
6. If ``signer_must_be`` is given, one of the signatures must be by that person (CIN in the
   certificate subject's serialNumber), and any signature after his must be invisible: a visible
   one draws an appearance on the page that could cover what he signed.

Anything unexpected fails closed: ``verify_pdf`` never raises, it rejects.
"""

import asyncio
import concurrent.futures
import enum
import io
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    CatalogModificationRule,
    DocInfoRule,
    DSSCompareRule,
    FormUpdatingRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
    XrefStreamRule,
)
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    SignatureCoverageLevel,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError

from .trust import TrustStore, revocation_index, trust_store_from_settings

logger = logging.getLogger(__name__)

WEAK_DIGESTS = {"md2", "md5", "sha1", "sha224"}
MIN_RSA_BITS = 2048
PADES_SUBFILTER = "/ETSI.CAdES.detached"
READ_ERRORS = (misc.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError)


class Code(enum.StrEnum):
    OK = "OK"
    NOT_A_PDF = "NOT_A_PDF"
    ENCRYPTED = "ENCRYPTED"
    TOO_LARGE = "TOO_LARGE"
    NO_SIGNATURE = "NO_SIGNATURE"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    MODIFIED_AFTER_SIGNING = "MODIFIED_AFTER_SIGNING"
    UNTRUSTED_CERTIFICATE = "UNTRUSTED_CERTIFICATE"
    CERTIFICATE_EXPIRED = "CERTIFICATE_EXPIRED"
    CERTIFICATE_REVOKED = "CERTIFICATE_REVOKED"
    WEAK_ALGORITHM = "WEAK_ALGORITHM"
    SIGNER_NOT_AUTHORISED = "SIGNER_NOT_AUTHORISED"


# What the officer reads, per code: what is wrong and what to do.
MESSAGES = {
    Code.OK: _("The signature is valid and the document has not been changed since it was signed."),
    Code.NOT_A_PDF: _(
        "This file is not a readable PDF document. Export the document to PDF again, sign it "
        "and upload the signed file."
    ),
    Code.ENCRYPTED: _(
        "This PDF is protected by a password or encrypted. Remove the protection, sign the "
        "document again and upload the signed file."
    ),
    Code.TOO_LARGE: _(
        "This file is larger than the size allowed. Scan the document at a lower resolution "
        "(200 dpi, grey levels are enough), sign it and upload it again."
    ),
    Code.NO_SIGNATURE: _(
        "This PDF carries no electronic signature. Sign it with your class 3 electronic "
        "signature token and upload the signed file."
    ),
    Code.SIGNATURE_INVALID: _(
        "The signature does not match the document: the file was altered or damaged after "
        "it was signed. Upload the original signed file, or sign the document again."
    ),
    Code.MODIFIED_AFTER_SIGNING: _(
        "This PDF was changed after it was signed. Sign the final version of the document "
        "again and upload that file, without editing it afterwards."
    ),
    Code.UNTRUSTED_CERTIFICATE: _(
        "The signing certificate was not issued by a recognised certification authority. "
        "Sign with your class 3 electronic signature token (for example Barid eSign)."
    ),
    Code.CERTIFICATE_EXPIRED: _(
        "The signing certificate had expired when the document was signed. Renew your "
        "certificate with your certification authority, then sign the document again."
    ),
    Code.CERTIFICATE_REVOKED: _(
        "The signing certificate has been revoked. Contact your certification authority for a "
        "new certificate, then sign the document again."
    ),
    Code.WEAK_ALGORITHM: _(
        "The signature uses an algorithm that is no longer secure (such as SHA-1). Update your "
        "signing software, sign the document again with SHA-256 and upload the new file."
    ),
    Code.SIGNER_NOT_AUTHORISED: _(
        "The document is validly signed, but not by the person expected. It must be signed "
        "by the officer responsible with his own certificate."
    ),
}

# When several problems are found, the first of these is the verdict.
SEVERITY = [
    Code.WEAK_ALGORITHM,
    Code.SIGNATURE_INVALID,
    Code.MODIFIED_AFTER_SIGNING,
    Code.CERTIFICATE_REVOKED,
    Code.CERTIFICATE_EXPIRED,
    Code.UNTRUSTED_CERTIFICATE,
]


@dataclass
class SignatureReport:
    field_name: str = ""
    signer: str = ""
    signer_cin: str = ""
    issuer: str = ""
    serial: str = ""
    signing_time: datetime | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str = "UNCLEAR"  # pyHanko's level: ENTIRE_FILE means the whole file is covered
    modified_after_signing: bool = True
    modification_level: str | None = None
    revoked: bool = False
    expired: bool = False
    timestamped: bool = False
    pades_level: str | None = None  # B-B, B-T, B-LT, B-LTA; None if not a PAdES signature
    digest_algorithm: str = ""
    code: Code = Code.SIGNATURE_INVALID
    detail: str = ""  # technical, for the logs and the CLI; not shown to officers

    def as_dict(self) -> dict:
        data = asdict(self)
        data["signing_time"] = self.signing_time.isoformat() if self.signing_time else None
        data["code"] = str(self.code)
        return data


@dataclass
class VerificationReport:
    code: Code
    signatures: list[SignatureReport] = field(default_factory=list)
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.code == Code.OK

    @property
    def message(self):
        return MESSAGES[self.code]

    @classmethod
    def from_dict(cls, data: dict) -> "VerificationReport":
        """Back from ``as_dict()`` (e.g. a report stored as JSON beside a document)."""
        signatures = []
        for sig in data.get("signatures", []):
            sig = {k: v for k, v in sig.items() if k in SignatureReport.__dataclass_fields__}
            if sig.get("signing_time"):
                sig["signing_time"] = datetime.fromisoformat(sig["signing_time"])
            sig["code"] = Code(sig.get("code", Code.SIGNATURE_INVALID))
            signatures.append(SignatureReport(**sig))
        return cls(Code(data["code"]), signatures, data.get("detail", ""))

    def as_dict(self) -> dict:
        return {
            "code": str(self.code),
            "accepted": self.accepted,
            "message": str(self.message),
            "detail": self.detail,
            "signatures": [s.as_dict() for s in self.signatures],
        }


# After a signature, only these changes are legitimate: new signatures (signature fields and their
# widgets), validation data (DSS), document timestamps, metadata. pyHanko's default policy would
# also accept new values in any other form field; a dossier document has no business changing.
STRICT_DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        CatalogModificationRule(),
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DSSCompareRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
    ],
    form_rule=FormUpdatingRule(field_rules=[SigFieldCreationRule(), SigFieldModificationRule()]),
)


def verify_pdf(data, *, signer_must_be=None, trust: TrustStore | None = None,
               max_bytes: int | None = None) -> VerificationReport:
    """Verify the signatures of ``data`` (bytes); never raises.

    ``signer_must_be``: an account (anything with a ``cin``) or a CIN string; one signature must be
    by that person. ``trust`` defaults to the store configured in settings.
    """
    try:
        data = bytes(data or b"")
        limit = settings.SIGNATURES_MAX_BYTES if max_bytes is None else max_bytes
        if len(data) > limit:
            return VerificationReport(Code.TOO_LARGE, detail=f"{len(data)} bytes > {limit}")
        trust = trust or trust_store_from_settings()
        return _run(_verify(data, _expected_cin(signer_must_be), trust))
    except Exception as exc:  # fail closed: a verifier bug must reject, not crash the upload
        logger.exception("PDF verification failed unexpectedly")
        return VerificationReport(Code.SIGNATURE_INVALID, detail=f"internal error: {exc!r}")


def _run(coro):
    """pyHanko's validation is async; run it whether or not an event loop is already running."""
    if _loop_running():
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, coro).result()
    # Not from inside an ``except`` block: pyHanko raises and catches many exceptions while
    # parsing, and chaining each to a pending one made verification 20 % slower.
    return asyncio.run(coro)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _verify(data: bytes, expected_cin: str | None, trust: TrustStore):
    if b"%PDF-" not in data[:1024]:
        return VerificationReport(Code.NOT_A_PDF, detail="no %PDF- header")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            return VerificationReport(Code.ENCRYPTED)
        reader.root  # noqa: B018 - parse the catalogue now
    except READ_ERRORS as exc:
        return VerificationReport(Code.NOT_A_PDF, detail=f"unreadable PDF: {exc}")
    try:
        embedded = reader.embedded_signatures
    except READ_ERRORS as exc:  # a signature field whose signature cannot even be parsed
        return VerificationReport(Code.SIGNATURE_INVALID, detail=f"unreadable signature: {exc}")

    regular = [e for e in embedded if e.sig_object_type == "/Sig"]
    stamps = [e for e in embedded if e.sig_object_type == "/DocTimeStamp"]
    if not regular:
        return VerificationReport(Code.NO_SIGNATURE)

    ltv = _read_dss(reader)
    stamp_results = [await _check_timestamp(e, trust, ltv) for e in stamps]
    reports = []
    for index, emb in enumerate(regular):
        is_last = index == len(regular) - 1
        reports.append(await _check_signature(emb, trust, ltv, is_last, stamp_results))

    codes = [r.code for r in reports]
    if any(not ok for _, ok, _ in stamp_results):
        codes.append(Code.SIGNATURE_INVALID)
    for code in SEVERITY:
        if code in codes:
            return VerificationReport(code, reports, detail=_details(reports))
    if expected_cin is None:
        return VerificationReport(Code.OK, reports)
    mine = [i for i, r in enumerate(reports) if r.signer_cin == expected_cin]
    if not mine:
        return VerificationReport(Code.SIGNER_NOT_AUTHORISED, reports,
                                  detail=f"no signature by CIN {expected_cin!r}")
    # A later signature may only add itself; but its appearance, drawn on the page, could cover
    # what the expected signer signed ("sneaky signature"): after him, only invisible ones.
    overlays = [r.field_name for r, e in zip(reports[mine[-1] + 1:], regular[mine[-1] + 1:],
                                             strict=True) if _visible(e.sig_field)]
    if overlays:
        return VerificationReport(Code.MODIFIED_AFTER_SIGNING, reports,
                                  detail=f"visible signatures after the signer's: {overlays}")
    return VerificationReport(Code.OK, reports)


def _visible(sig_field) -> bool:
    """Whether a signature field has a widget with an area on the page that is not hidden."""
    widgets = [k.get_object() for k in sig_field.get("/Kids", ())] or [sig_field]
    for widget in widgets:
        try:
            x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        except (KeyError, ValueError, TypeError):
            continue
        hidden = int(widget.get("/F", 0)) & (2 | 32)  # Hidden, NoView
        if abs(x2 - x1) > 0 and abs(y2 - y1) > 0 and not hidden:
            return True
    return False


def _details(reports):
    return "; ".join(f"{r.field_name}: {r.code} {r.detail}".strip() for r in reports
                     if r.code != Code.OK)


@dataclass
class _Ltv:
    """Validation data embedded in the document (DSS), and the revision that last changed it."""

    certs: list = field(default_factory=list)
    crls: list = field(default_factory=list)
    ocsps: list = field(default_factory=list)
    revoked: dict = field(default_factory=dict)  # revocation_index(crls)
    revision: int | None = None

    @property
    def has_revocation_data(self):
        return bool(self.crls or self.ocsps)

    def context(self, trust: TrustStore, moment=None):
        return trust.validation_context(moment=moment, other_certs=self.certs, crls=self.crls,
                                        ocsps=self.ocsps, retroactive=moment is not None)


def _read_dss(reader) -> _Ltv:
    """The document's validation data; unreadable data is ignored (it can only help trust)."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return _Ltv()
    try:
        ltv = _Ltv(certs=list(dss.load_certs()))
        for ref in dss.crls:
            ltv.crls.append(asn1_crl.CertificateList.load(ref.get_object().data))
        for ref in dss.ocsps:
            ltv.ocsps.append(asn1_ocsp.OCSPResponse.load(ref.get_object().data))
        ltv.revoked = revocation_index(ltv.crls)  # parses the CRLs: a broken one fails here
        dss_ref = reader.root.raw_get("/DSS")
        if not isinstance(dss_ref, generic.IndirectObject):
            dss_ref = reader.trailer.raw_get("/Root")
        ltv.revision = reader.xrefs.get_last_change(dss_ref.reference)
    except Exception:  # noqa: BLE001
        logger.info("Unreadable DSS ignored", exc_info=True)
        return _Ltv()
    return ltv


async def _check_timestamp(emb, trust, ltv):
    """(signed revision, intact and valid, trusted time or None) for a document timestamp."""
    try:
        status = await async_validate_pdf_timestamp(emb, ltv.context(trust),
                                                    diff_policy=STRICT_DIFF_POLICY)
    except Exception as exc:  # noqa: BLE001 - any failure is a broken timestamp
        logger.info("Document timestamp failed validation: %r", exc)
        return emb.signed_revision, False, None
    ok = status.intact and status.valid
    return emb.signed_revision, ok, status.timestamp if ok and status.trusted else None


def _weakness(emb) -> str:
    """Why the signature's algorithms are too weak, or ''."""
    digest = emb.md_algorithm
    mechanism = emb.signer_info["signature_algorithm"]["algorithm"].native
    if digest in WEAK_DIGESTS or any(w in mechanism for w in WEAK_DIGESTS):
        return f"weak digest {digest}/{mechanism}"
    public_key = emb.signer_cert.public_key
    if public_key.algorithm == "rsa" and public_key.bit_size < MIN_RSA_BITS:
        return f"RSA key of {public_key.bit_size} bits"
    return ""


async def _check_signature(emb, trust, ltv, is_last, stamp_results) -> SignatureReport:
    report = SignatureReport(field_name=emb.field_name or "")
    try:
        cert = emb.signer_cert
        subject = cert.subject.native
        report.signer = subject.get("common_name", "") or cert.subject.human_friendly
        report.signer_cin = _normalise_cin(subject.get("serial_number", ""))
        report.issuer = cert.issuer.human_friendly
        report.serial = format(cert.serial_number, "X")
        report.digest_algorithm = emb.md_algorithm
        weak = _weakness(emb)
        if weak:
            report.code, report.detail = Code.WEAK_ALGORITHM, weak
            return report
        status = await async_validate_pdf_signature(emb, ltv.context(trust),
                                                    diff_policy=STRICT_DIFF_POLICY)
        moment = datetime.now(UTC)
        tst = status.timestamp_validity
        now_bad = not _within(cert, moment) or status.revoked \
            or _listed_in_crls(cert, trust, ltv, moment)
        if now_bad and tst is not None and tst.intact and tst.valid and tst.trusted:
            # A trusted timestamp proves the signature existed at that time: judge the
            # certificate then (expired or revoked since is fine, before is not).
            moment = tst.timestamp
            status = await async_validate_pdf_signature(emb, ltv.context(trust, moment=moment),
                                                        diff_policy=STRICT_DIFF_POLICY)
    except Exception as exc:  # noqa: BLE001 - malformed CMS, bad /ByteRange...: not a valid signature
        logger.info("Signature %s failed validation: %r", report.field_name, exc)
        report.code, report.detail = Code.SIGNATURE_INVALID, f"{type(exc).__name__}: {exc}"
        return report

    report.intact, report.valid = status.intact, status.valid
    report.trusted = status.trusted
    # pyHanko consults CRLs only for certificates that declare a distribution point: a certificate
    # listed in a CRL we hold is revoked whatever it declares.
    report.revoked = status.revoked or _listed_in_crls(cert, trust, ltv, moment)
    report.coverage = status.coverage.name if status.coverage else "UNCLEAR"
    level = status.modification_level
    report.modification_level = level.name if level is not None else None

    tst_ok = tst is not None and tst.intact and tst.valid
    tst_trusted = tst_ok and tst.trusted
    report.signing_time = tst.timestamp if tst_trusted else status.signer_reported_dt
    report.expired = not _within(cert, moment) or (
        report.signing_time is not None and not _within(cert, report.signing_time))
    report.modified_after_signing = _modified(status, level, is_last)
    later_stamps = [t for rev, ok, t in stamp_results if ok and t and rev > emb.signed_revision]
    report.timestamped = bool(tst_trusted or later_stamps)
    report.pades_level = _pades_level(emb, report.timestamped, ltv, stamp_results)

    if not (report.intact and report.valid) or (tst is not None and not tst_ok) \
            or not status.seed_value_ok:
        report.code = Code.SIGNATURE_INVALID
    elif report.modified_after_signing:
        report.code = Code.MODIFIED_AFTER_SIGNING
        report.detail = f"coverage {report.coverage}, changes {report.modification_level}"
    elif report.revoked:
        report.code = Code.CERTIFICATE_REVOKED
    elif report.expired:
        report.code = Code.CERTIFICATE_EXPIRED
    elif not report.trusted:
        report.code = Code.UNTRUSTED_CERTIFICATE
        report.detail = str(status.trust_problem_indic or "no path to a trusted root")
    else:
        report.code = Code.OK
    return report


def _modified(status, level, is_last) -> bool:
    """Whether what follows the signature is more than PAdES allows (see the module docstring)."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return False
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION or level is None:
        return True  # the byte range skips part of its revision, or the analysis could not run
    allowed = ModificationLevel.LTA_UPDATES if is_last else ModificationLevel.FORM_FILLING
    return level > allowed or not status.docmdp_ok


def _listed_in_crls(cert, trust, ltv, moment) -> bool:
    """Whether a configured or embedded CRL lists ``cert`` as revoked at ``moment``.

    CRL signatures are not checked here: configured CRLs are the operator's files, and an
    embedded one can only make us reject.
    """
    key = (cert.issuer.hashable, cert.serial_number)
    revoked_on = [d for d in (trust.revoked.get(key), ltv.revoked.get(key)) if d is not None]
    return any(date <= moment for date in revoked_on)


def _within(cert, moment) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native <= moment <= validity["not_after"].native


def _pades_level(emb, timestamped, ltv, stamp_results):
    if emb.sig_object.get("/SubFilter") != PADES_SUBFILTER:
        return None
    if not timestamped:
        return "B-B"
    if not ltv.has_revocation_data:
        return "B-T"
    # A trusted document timestamp after the signature seals its validation data. (Tools add the
    # timestamp's own validation data after it, so the DSS may change again later.)
    if any(t and ok and rev > emb.signed_revision for rev, ok, t in stamp_results):
        return "B-LTA"
    return "B-LT"


CIN_PATTERN = re.compile(r"[^A-Z0-9]")


def _normalise_cin(value) -> str:
    """``AB123456``, ``ab 123456`` and the ETSI semantic form ``IDCMA-AB123456`` give AB123456."""
    value = str(value or "").strip().upper()
    if re.match(r"^IDC[A-Z]{2}[-:]", value):
        value = value[6:]
    return CIN_PATTERN.sub("", value)


def _expected_cin(who) -> str | None:
    if who is None:
        return None
    cin = who if isinstance(who, str) else getattr(who, "cin", "")
    # An account without a CIN can match nobody; "" never equals a certificate's CIN below.
    return _normalise_cin(cin) or "\0no-cin"
