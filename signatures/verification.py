"""Verify the PAdES signatures of an uploaded PDF: one verdict code, and a report per signature.

The most security-critical code of the project. Rules, in order:

1. The file must be a complete, readable, unencrypted PDF within the size limit: a file cut short
   (no final ``%%EOF``) is damaged, whatever a tolerant reader could still make of it.
2. Every signature (``/Sig``) must be intact (its digest matches), valid (cryptography), made with
   a strong algorithm (or proven by a timestamp to predate the algorithm's sunset), by a
   certificate that chains to a configured root, was not revoked and was within its validity
   period (at the time of a trusted timestamp, else now).
3. Every signature must cover its whole revision (pyHanko's coverage), and what the document says
   now may differ from what it said when signed only as ``signatures.changes.PERMITTED`` allows for
   that signature: validation data and document timestamps always; further signatures, the
   filling of fields left empty, tags; comments after an approval signature; what a certification's
   DocMDP level allows; never a field a signature locks (FieldMDP). The difference analysis is our
   own, over the documents as a reader sees them (``signatures.changes``), not pyHanko's
   object-by-object whitelist, which refuses genuine files whose writers rewrote unchanged objects.
4. Bytes after the last revision that no cross-reference accounts for are a modification.
   Active content (scripts, automatic actions, launch, attached files, XFA: ``signatures.content``)
   refuses the file before anything else, signed or not.
5. Document timestamps, where present, must be intact and valid; a trusted one dates what it covers.
6. If a signer is expected (``signer_must_be``, or ``signers``: the officers who may sign), one
   signature must be his, and what was added after it may not cover what he saw: a later visible
   signature or annotation over the signed text or stamps, or anything that hides the signed ink
   (``signatures.overlay``).

Anything unexpected fails closed: ``verify_pdf`` never raises, it rejects.
"""

import asyncio
import concurrent.futures
import enum
import gc
import hashlib
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pyhanko.pdf_utils import misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    SignatureCoverageLevel,
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import NoDSSFoundError

from eretraite import antivirus
from eretraite.formatting import listing

from . import changes as diff
from . import overlay
from .content import active_content
from .names import names_match
from .trust import TrustStore, revocation_index, trust_store_from_settings

logger = logging.getLogger(__name__)

# Algorithms no longer strong enough for a new signature, and the day from which they are not:
# a signature made with one counts only if a trusted timestamp proves it existed before that day
# (ETSI TS 119 312 and SOG-IS Agreed Cryptographic Mechanisms retire SHA-1 for signatures; the date
# is the one this project applies, to be confirmed against the CMR's validation policy).
WEAK_DIGESTS = {"md2": datetime(2004, 1, 1, tzinfo=UTC), "md5": datetime(2005, 1, 1, tzinfo=UTC),
                "sha1": datetime(2016, 1, 1, tzinfo=UTC), "sha224": datetime(2024, 1, 1, tzinfo=UTC)}
MIN_RSA_BITS = 2048
SHORT_RSA_SUNSET = datetime(2014, 1, 1, tzinfo=UTC)
PADES_SUBFILTER = "/ETSI.CAdES.detached"
READ_ERRORS = (misc.PdfError, ValueError, KeyError, TypeError, AttributeError, IndexError)
EOF_MARKER = re.compile(rb"%%EOF[\r\n\x00\t\f ]*$")
TRAILING_SLACK = 2048  # bytes of whitespace or NULs tolerated after the last %%EOF
LARGE_FILE = 4 * 1024 * 1024


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
    ACTIVE_CONTENT = "ACTIVE_CONTENT"
    INFECTED = "INFECTED"  # the virus scanner found something (eretraite.antivirus)
    SCANNER_UNAVAILABLE = "SCANNER_UNAVAILABLE"  # no verdict from the scanner: refused, not let through


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
    Code.ACTIVE_CONTENT: _(
        "This PDF contains active content (a script, an automatic action, an attached file or an "
        "interactive form) that the platform does not accept. Print or export the document to PDF "
        "again without it, sign the new file and upload it."
    ),
    Code.INFECTED: antivirus.INFECTED_MESSAGE,
    Code.SCANNER_UNAVAILABLE: antivirus.UNAVAILABLE_MESSAGE,
}

# Sharper messages for some causes (``VerificationReport.reason``); %(...)s from ``params``.
REASON_MESSAGES = {
    "damaged": _(
        "This PDF file is damaged or incomplete: it may have been cut off while it was copied or "
        "sent. Upload the original signed file again."
    ),
    "changed": _(
        "This PDF was changed after it was signed (%(changes)s). Sign the final version of the "
        "document again and upload that file, without editing it afterwards."
    ),
    "covered": _(
        "Something added after the signature of %(signer)s is drawn over the signed content "
        "(%(changes)s). Have the final version signed again, or upload the file as it was signed."
    ),
    "not_expected": _(
        "The document is validly signed by %(signer)s, but not by the person expected. Those who "
        "may sign it, each with their own certificate: %(expected)s."
    ),
    "name_mismatch": _(
        "The certificate that signed bears the CIN of %(expected)s but the name %(signer)s, so the "
        "signature cannot be counted as that officer's. Have the account's name and CIN checked by "
        "the DGCT, or sign with your own certificate."
    ),
    "not_issued": _(
        "This is not the document the platform issued to be signed, or it was changed before it was "
        "signed. Download the document again, sign it with your own certificate without changing it, "
        "and upload the signed file."
    ),
    "no_expected": _(
        "The document is validly signed by %(signer)s, but no active officer of this collectivity "
        "may sign it yet: the officers' accounts must be activated first."
    ),
}

# How each kind of change is named to the officer.
CHANGE_LABELS = {
    diff.Kind.VALIDATION_DATA: _("validation data added"),
    diff.Kind.DOCUMENT_TIMESTAMP: _("document timestamp added"),
    diff.Kind.METADATA: _("document properties updated"),
    diff.Kind.STRUCTURE: _("document tags updated"),
    diff.Kind.SIGNATURE_ADDED: _("signature added"),
    diff.Kind.FORM_FILLED: _("form filled"),
    diff.Kind.COMMENT_ADDED: _("comment added"),
    diff.Kind.ANNOTATION_CHANGED: _("annotation added or changed"),
    diff.Kind.PAGE_ADDED: _("page added"),
    diff.Kind.PAGE_REMOVED: _("page removed"),
    diff.Kind.PAGE_CONTENT: _("page content changed"),
    diff.Kind.PAGE_CHANGED: _("page fonts, images or layout changed"),
    diff.Kind.FIELD_ADDED: _("form field added"),
    diff.Kind.FIELD_REMOVED: _("form field removed"),
    diff.Kind.FIELD_VALUE_REPLACED: _("a signed value replaced"),
    diff.Kind.LOCKED_FIELD_CHANGED: _("a field locked by the signature changed"),
    diff.Kind.SIGNATURE_REPLACED: _("an existing signature changed"),
    diff.Kind.FORM_CHANGED: _("form changed"),
    diff.Kind.ACTIVE_CONTENT: _("active content added (script, action or attachment)"),
    diff.Kind.DOCUMENT_CHANGED: _("document structure changed"),
    diff.Kind.APPENDED_DATA: _("data appended after the last revision"),
    diff.Kind.UNANALYSABLE: _("changes that could not be analysed"),
}
CHANGE_LABELS["coverage"] = _("the signature does not cover its whole revision")

# When several problems are found, the first of these is the verdict.
SEVERITY = [
    Code.SIGNATURE_INVALID,
    Code.MODIFIED_AFTER_SIGNING,
    Code.CERTIFICATE_REVOKED,
    Code.WEAK_ALGORITHM,
    Code.CERTIFICATE_EXPIRED,
    Code.UNTRUSTED_CERTIFICATE,
]


@dataclass(frozen=True)
class Signer:
    """Someone who may sign, as plain data (this app imports no other): an officer's account."""

    cin: str
    full_name: str | None = None  # None: the CIN alone decides (``verify_pdf --signer-cin``)
    account_id: int | None = None
    on_behalf_of_id: int | None = None  # a provincial office signing for this commune

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SignatureReport:
    field_name: str = ""
    signer: str = ""
    signer_cin: str = ""
    issuer: str = ""
    serial: str = ""
    signing_time: datetime | None = None
    intact: bool = False  # the digest matches: nothing else
    valid: bool = False  # the signature value verifies with the certificate's key
    trusted: bool = False
    coverage: str = "UNCLEAR"  # pyHanko's level: ENTIRE_FILE means the whole file is covered
    modified_after_signing: bool = True  # a change the signature's permissions do not allow
    modification_level: str | None = None  # NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER
    changes_after: list = field(default_factory=list)  # [{kind, where, page, permitted}]
    certification: int | None = None  # DocMDP P of a certification signature
    revoked: bool = False
    expired: bool = False
    timestamped: bool = False  # a signature or document timestamp covers it
    pades_level: str | None = None  # B-B, B-T, B-LT, B-LTA; None if not a PAdES signature
    digest_algorithm: str = ""
    weak_algorithm: str = ""  # why the algorithm is weak, if it is
    protected_by_timestamp: bool = False  # a later strong trusted timestamp covers a weak signature
    code: Code = Code.SIGNATURE_INVALID
    detail: str = ""  # technical, for the logs and the CLI; not shown to officers

    def as_dict(self) -> dict:
        data = asdict(self)
        data["signing_time"] = self.signing_time.isoformat() if self.signing_time else None
        data["code"] = str(self.code)
        return data

    @property
    def change_labels(self) -> list:
        """The permitted changes after this signature, in the reader's language, once each."""
        return _labels(c["kind"] for c in self.changes_after if c.get("permitted"))

    @property
    def refused_change_labels(self) -> list:
        return _labels(c["kind"] for c in self.changes_after if not c.get("permitted"))


def _labels(kinds) -> list:
    seen, labels = set(), []
    for kind in kinds:
        if kind not in seen:
            seen.add(kind)
            labels.append(CHANGE_LABELS.get(kind, kind))
    return labels


@dataclass
class VerificationReport:
    code: Code
    signatures: list[SignatureReport] = field(default_factory=list)
    detail: str = ""
    reason: str = ""  # a sharper cause than the code, with its message (REASON_MESSAGES)
    params: dict = field(default_factory=dict)  # what that message names
    signer: dict | None = None  # the expected signer whose signature was found (Signer.as_dict)
    signer_index: int | None = None  # which signature is his

    @property
    def accepted(self) -> bool:
        return self.code == Code.OK

    @property
    def message(self):
        template = REASON_MESSAGES.get(self.reason)
        if template is None:
            return MESSAGES[self.code]
        params = {key: str(self.params.get(key, "")) for key in ("signer", "expected")}
        params["changes"] = _join(_labels(self.params.get("changes", ())))
        return str(template) % params

    @property
    def rows(self) -> list[dict]:
        """Each signature with who signed before and after it (for the page)."""
        names = [s.signer or s.signer_cin for s in self.signatures]
        return [{"signature": s, "before": names[:i], "after": names[i + 1:]} for i, s in enumerate(self.signatures)]

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
        return cls(Code(data["code"]), signatures, data.get("detail", ""), data.get("reason", ""),
                   data.get("params") or {}, data.get("signer"), data.get("signer_index"))

    def as_dict(self) -> dict:
        return {
            "code": str(self.code),
            "accepted": self.accepted,
            "message": str(self.message),
            "detail": self.detail,
            "reason": self.reason,
            "params": self.params,
            "signer": self.signer,
            "signer_index": self.signer_index,
            "signatures": [s.as_dict() for s in self.signatures],
        }


def _join(labels) -> str:
    return listing(labels)


def verify_pdf(data, *, signer_must_be=None, signers: Iterable[Signer] | None = None,
               trust: TrustStore | None = None, max_bytes: int | None = None) -> VerificationReport:
    """Verify the signatures of ``data`` (bytes); never raises.

    ``signer_must_be``: an account (anything with a ``cin``, and a ``full_name`` that the certificate
    must match) or a CIN string; ``signers``: the ``Signer``s who may sign. Either way one signature
    must be by one of them. ``trust`` defaults to the store configured in settings.
    """
    try:
        data = bytes(data or b"")
        limit = settings.SIGNATURES_MAX_BYTES if max_bytes is None else max_bytes
        if len(data) > limit:
            return VerificationReport(Code.TOO_LARGE, detail=f"{len(data)} bytes > {limit}")
        trust = trust or trust_store_from_settings()
        expected = _expected_signers(signer_must_be, signers)
        result = _run(_verify(data, expected, trust))
        if isinstance(result, _OverlayCheck):
            if len(data) > LARGE_FILE:
                gc.collect()  # the reader's object graph has cycles: free its copy of a scan's image first
            result = result.finish()
        return result
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


def _damaged(data: bytes) -> str:
    """Why the file is visibly incomplete, or ''."""
    tail = data[-(TRAILING_SLACK + 8):]
    if not EOF_MARKER.search(tail):
        return "no %%EOF at the end of the file: cut short"
    return ""


async def _verify(data: bytes, expected: list[Signer] | None, trust: TrustStore):
    if b"%PDF-" not in data[:1024]:
        return VerificationReport(Code.NOT_A_PDF, detail="no %PDF- header")
    damage = _damaged(data)
    if damage:
        return VerificationReport(Code.NOT_A_PDF, detail=damage, reason="damaged")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            return VerificationReport(Code.ENCRYPTED)
        reader.root  # noqa: B018 - parse the catalogue now
    except READ_ERRORS as exc:
        return VerificationReport(Code.NOT_A_PDF, detail=f"unreadable PDF: {exc}", reason="damaged")
    active = active_content(reader)
    if active:
        return VerificationReport(Code.ACTIVE_CONTENT, detail="; ".join(active[:10]))
    try:
        embedded = reader.embedded_signatures
    except READ_ERRORS as exc:  # a signature field whose signature cannot even be parsed
        return VerificationReport(Code.SIGNATURE_INVALID, detail=f"unreadable signature: {exc}")

    regular = [e for e in embedded if e.sig_object_type == "/Sig"]
    stamps = [e for e in embedded if e.sig_object_type == "/DocTimeStamp"]
    if not regular:
        return VerificationReport(Code.NO_SIGNATURE)

    context = _Context(reader, data, trust)
    context.ltv = _read_dss(reader)
    context.stamps = [await _check_timestamp(e, trust, context.ltv) for e in stamps]
    context.appended = _appended_data(reader, data)
    context.certification = _certification_level(regular)
    reports = [await _check_signature(emb, context, index) for index, emb in enumerate(regular)]

    codes = [r.code for r in reports]
    if any(not s.ok for s in context.stamps):
        codes.append(Code.SIGNATURE_INVALID)
    details = _details(reports) + "".join(f"; document timestamp {s.field}: {s.problem}"
                                          for s in context.stamps if not s.ok)
    for code in SEVERITY:
        if code in codes:
            return _refusal(code, reports, details)
    if expected is None:
        return VerificationReport(Code.OK, reports)
    return _check_expected(context, regular, reports, expected)


def _refusal(code, reports, details) -> VerificationReport:
    report = VerificationReport(code, reports, detail=details.lstrip("; "))
    if code == Code.MODIFIED_AFTER_SIGNING:
        kinds = [c["kind"] for r in reports for c in r.changes_after if not c.get("permitted")]
        if kinds:
            report.reason, report.params = "changed", {"changes": kinds}
    return report


def _named(name, cin) -> str:
    """Who signed or may sign, as the refusal names him: "Amina El Idrissi (AB123456)", the name and the CIN
    as the certificate bears them (or the account, for those expected), either alone when the other is missing."""
    name, cin = (name or "").strip(), (cin or "").strip()
    return f"{name} ({cin})" if name and cin else name or cin


def _check_expected(context, regular, reports, expected) -> VerificationReport:
    """One signature must be an expected signer's, and nothing after it may cover what he saw."""
    by_cin = [(i, s) for i, r in enumerate(reports) for s in expected
              if r.signer_cin and _normalise_cin(s.cin) == r.signer_cin]
    names = [(i, s) for i, s in by_cin if s.full_name is None or names_match(reports[i].signer, s.full_name)]
    signer_names = _join(dict.fromkeys(_named(r.signer, r.signer_cin) for r in reports if r.signer or r.signer_cin))
    if not names:
        report = VerificationReport(Code.SIGNER_NOT_AUTHORISED, reports)
        if by_cin:
            i, s = by_cin[-1]
            report.reason, report.params = "name_mismatch", {
                "signer": reports[i].signer, "expected": f"{s.full_name} ({s.cin})"}
            report.detail = f"certificate name {reports[i].signer!r} does not match {s.full_name!r}"
        elif not expected:
            report.reason, report.params = "no_expected", {"signer": signer_names}
            report.detail = "no authorised signer"
        else:
            report.reason, report.params = "not_expected", {
                "signer": signer_names,
                "expected": _join(dict.fromkeys(_named(s.full_name, s.cin) for s in expected))}
            report.detail = f"no signature by {', '.join(sorted({s.cin for s in expected}))}"
        return report
    index, signer = names[-1]
    report = VerificationReport(Code.OK, reports, signer=signer.as_dict(), signer_index=index)
    visible = [diff.Change(diff.Kind(c["kind"]), c["where"], page=c["page"] - 1, rect=tuple(c["rect"]),
                           widget=tuple(c["widget"]) if c.get("widget") else None)
               for c in context.visible_after.get(index, [])]
    if not visible:
        return report
    emb = regular[index]
    return _OverlayCheck(report, context.data, _revision_end(emb), visible,
                         diff.visible_annotations(context.reader, emb.signed_revision))


@dataclass
class _OverlayCheck:
    """The last step, run once pyHanko's reader is gone: rendering a page decodes its images, and a
    scan's would otherwise be in memory twice."""

    report: VerificationReport
    data: bytes = field(repr=False)  # asyncio may repr a task's result: never a 20 MB scan
    signed_end: int = 0
    visible: list = field(default_factory=list)
    old_annotations: dict = field(default_factory=dict)

    def finish(self) -> VerificationReport:
        covering = overlay.covering(self.data, self.signed_end, self.visible, self.old_annotations)
        if not covering:
            return self.report
        report = self.report
        report.code, report.detail, report.reason = Code.MODIFIED_AFTER_SIGNING, "; ".join(covering), "covered"
        report.params = {"signer": report.signatures[report.signer_index].signer,
                         "changes": [c.kind for c in self.visible]}
        return report


def _details(reports):
    return "; ".join(f"{r.field_name}: {r.code} {r.detail}".strip() for r in reports
                     if r.code != Code.OK)


class _Context:
    """What all signatures of one file share: the reader, its validation data, its timestamps."""

    def __init__(self, reader, data, trust):
        self.reader, self.data, self.trust = reader, data, trust
        self.ltv = _Ltv()
        self.stamps: list[_Stamp] = []
        self.appended: str = ""
        self.certification: int | None = None
        self.visible_after: dict[int, list] = {}  # signature index -> visible additions after it



@dataclass
class _Ltv:
    """Validation data embedded in the document (DSS)."""

    certs: list = field(default_factory=list)
    crls: list = field(default_factory=list)
    ocsps: list = field(default_factory=list)
    revoked: dict = field(default_factory=dict)  # revocation_index(crls)
    vri: set = field(default_factory=set)  # VRI keys: the signatures it names (SHA-1 of their value)
    revocation_keys: set = field(default_factory=set)  # SHA-256 of each CRL and OCSP answer

    @property
    def has_revocation_data(self):
        return bool(self.crls or self.ocsps)

    def context(self, trust: TrustStore, moment=None):
        return trust.validation_context(moment=moment, other_certs=self.certs, crls=self.crls,
                                        ocsps=self.ocsps, retroactive=moment is not None)

    def covers(self, cert) -> bool:
        """Whether this data holds revocation information for ``cert`` (a CRL of its issuer, or an
        OCSP answer about it)."""
        issuer = cert.issuer.hashable
        if any(c["tbs_cert_list"]["issuer"].hashable == issuer for c in self.crls):
            return True
        for response in self.ocsps:
            try:
                basic = response["response_bytes"]["response"].parsed
                for single in basic["tbs_response_data"]["responses"]:
                    if single["cert_id"]["serial_number"].native == cert.serial_number:
                        return True
            except (KeyError, ValueError, TypeError):
                continue
        return False


def _read_dss(reader, revision=None) -> _Ltv:
    """The document's validation data (as of ``revision``); unreadable data is ignored (it could
    only help trust)."""
    try:
        source = reader if revision is None else reader.get_historical_resolver(revision)
        dss = DocumentSecurityStore.read_dss(source)
    except NoDSSFoundError:
        return _Ltv()
    except Exception:  # noqa: BLE001
        logger.info("Unreadable DSS ignored", exc_info=True)
        return _Ltv()
    try:
        ltv = _Ltv(certs=list(dss.load_certs()))
        for ref in dss.crls:
            raw = ref.get_object().data
            ltv.crls.append(asn1_crl.CertificateList.load(raw))
            ltv.revocation_keys.add(hashlib.sha256(raw).digest())
        for ref in dss.ocsps:
            raw = ref.get_object().data
            ltv.ocsps.append(asn1_ocsp.OCSPResponse.load(raw))
            ltv.revocation_keys.add(hashlib.sha256(raw).digest())
        ltv.revoked = revocation_index(ltv.crls)  # parses the CRLs: a broken one fails here
        ltv.vri = {str(key).lstrip("/").upper() for key in dss.vri_entries}
    except Exception:  # noqa: BLE001
        logger.info("Unreadable DSS ignored", exc_info=True)
        return _Ltv()
    return ltv


@dataclass
class _Stamp:
    """A document timestamp: the revision it signs, whether it holds, the time it proves."""

    field: str
    revision: int
    ok: bool
    time: datetime | None  # trusted time, None if the TSA is not trusted
    strong: bool = True
    covers_dss_of: _Ltv | None = None
    problem: str = ""


async def _check_timestamp(emb, trust, ltv) -> _Stamp:
    stamp = _Stamp(emb.field_name or "", emb.signed_revision, False, None)
    try:
        status = await async_validate_pdf_timestamp(emb, ltv.context(trust), skip_diff=True)
    except Exception as exc:  # noqa: BLE001 - any failure is a broken timestamp
        logger.info("Document timestamp failed validation: %r", exc)
        stamp.problem = f"{type(exc).__name__}: {exc}"
        return stamp
    coverage_ok = status.coverage in (SignatureCoverageLevel.ENTIRE_FILE,
                                      SignatureCoverageLevel.ENTIRE_REVISION)
    stamp.ok = bool(status.intact and status.valid and coverage_ok)
    if not stamp.ok:
        stamp.problem = f"intact={status.intact} valid={status.valid} coverage={status.coverage}"
    stamp.strong = emb.md_algorithm not in WEAK_DIGESTS
    stamp.time = status.timestamp if stamp.ok and status.trusted else None
    stamp.covers_dss_of = _read_dss(emb.reader, emb.signed_revision) if stamp.ok else None
    return stamp


def _weakness(emb) -> tuple[str, datetime | None]:
    """Why the signature's algorithms are too weak and since when, or ('', None)."""
    digest = emb.md_algorithm
    mechanism = emb.signer_info["signature_algorithm"]["algorithm"].native
    for name, sunset in WEAK_DIGESTS.items():
        if digest == name or mechanism.startswith(f"{name}_"):
            return f"weak digest {digest}/{mechanism}", sunset
    public_key = emb.signer_cert.public_key
    if public_key.algorithm == "rsa" and public_key.bit_size < MIN_RSA_BITS:
        return f"RSA key of {public_key.bit_size} bits", SHORT_RSA_SUNSET
    return "", None


def _certification_level(regular) -> int | None:
    """The DocMDP P of the document's certification signature (ISO 32000-2 12.8.2.2), if any."""
    for emb in regular:
        try:
            if _is_certification(emb):
                level = emb.docmdp_level
                return int(level.value if isinstance(level, MDPPerm) else level) if level else 2
        except READ_ERRORS:
            return 1  # a certification whose permissions cannot be read permits nothing
    return None


def _is_certification(emb) -> bool:
    refs = emb.sig_object.get("/Reference")
    for ref in refs or ():
        ref = ref.get_object() if hasattr(ref, "get_object") else ref
        if ref.get("/TransformMethod") == "/DocMDP":
            return True
    return False


def _effective_docmdp(emb, context) -> int | None:
    """The DocMDP restriction in force after this signature: the certification's (which comes
    first), and the P of this signature's own field lock (PDF 2.0), the stricter of the two."""
    levels = [context.certification] if context.certification is not None else []
    try:
        own = emb.docmdp_level
        if own is not None:
            levels.append(int(own.value if isinstance(own, MDPPerm) else own))
    except READ_ERRORS:
        levels.append(1)
    return min(levels) if levels else None


def _appended_data(reader, data) -> str:
    """Non-blank bytes after the end of the last revision that the reader knows (an update with no
    cross-reference section, which some viewers would still read)."""
    try:
        last = reader.xrefs.total_revisions - 1
        meta = reader.xrefs.get_xref_container_info(last)
        end = data.find(b"%%EOF", meta.end_location)
    except READ_ERRORS:
        return "the end of the last revision cannot be found"
    if end < 0:
        return ""
    rest = data[end + 5:]
    if rest.strip(b"\r\n\x00\t\f ") and len(rest) > 0:
        return f"{len(rest)} bytes after the last %%EOF"
    return ""


async def _check_signature(emb, context, index) -> SignatureReport:
    report = SignatureReport(field_name=emb.field_name or "")
    trust, ltv = context.trust, context.ltv
    try:
        cert = emb.signer_cert
        subject = cert.subject.native
        report.signer = subject.get("common_name", "") or cert.subject.human_friendly
        report.signer_cin = _normalise_cin(subject.get("serial_number", ""))
        report.issuer = cert.issuer.human_friendly
        report.serial = format(cert.serial_number, "X")
        report.digest_algorithm = emb.md_algorithm
        report.weak_algorithm, sunset = _weakness(emb)
        if _is_certification(emb):
            report.certification = _certification_level([emb])
        status = await async_validate_pdf_signature(emb, ltv.context(trust), skip_diff=True)
        moment = datetime.now(UTC)
        tst = status.timestamp_validity
        proof = _proof_of_existence(emb, tst, context)
        now_bad = not _within(cert, moment) or status.revoked or _listed_in_crls(cert, trust, ltv, moment)
        if now_bad and proof is not None:
            # A trusted timestamp proves the signature existed at that time: judge the
            # certificate then (expired or revoked since is fine, before is not).
            moment = proof
            status = await async_validate_pdf_signature(emb, ltv.context(trust, moment=moment), skip_diff=True)
    except Exception as exc:  # noqa: BLE001 - malformed CMS, bad /ByteRange...: not a valid signature
        logger.info("Signature %s failed validation: %r", report.field_name, exc)
        report.code, report.detail = Code.SIGNATURE_INVALID, f"{type(exc).__name__}: {exc}"
        return report

    report.intact, report.valid = bool(status.intact), bool(status.valid)
    report.trusted = bool(status.trusted)
    # pyHanko consults CRLs only for certificates that declare a distribution point: a certificate
    # listed in a CRL we hold is revoked whatever it declares.
    report.revoked = bool(status.revoked) or _listed_in_crls(cert, trust, ltv, moment)
    report.coverage = status.coverage.name if status.coverage else "UNCLEAR"

    tst_ok = tst is not None and tst.intact and tst.valid
    tst_trusted = tst_ok and tst.trusted
    report.signing_time = tst.timestamp if tst_trusted else status.signer_reported_dt
    report.expired = not _within(cert, moment) or (
        report.signing_time is not None and not _within(cert, report.signing_time))
    later_stamps = [s for s in context.stamps if s.ok and s.revision > emb.signed_revision]
    report.timestamped = bool(tst_ok or later_stamps)
    report.pades_level = _pades_level(emb, cert, report.timestamped, context)
    _changes(emb, report, context, index)
    strong_enough = True
    if report.weak_algorithm:
        # A strong trusted timestamp proves when the signature existed; it saves a weak signature
        # only if that was before the algorithm stopped being trusted.
        report.protected_by_timestamp = proof is not None
        strong_enough = proof is not None and sunset is not None and proof < sunset
        report.detail = f"{report.weak_algorithm}, " + (
            f"timestamped {proof:%Y-%m-%d}, {'before' if strong_enough else 'after'} its sunset "
            f"{sunset:%Y-%m-%d}" if proof is not None else "not timestamped")

    if not (report.intact and report.valid) or (tst is not None and not tst_ok) \
            or not status.seed_value_ok:
        report.code = Code.SIGNATURE_INVALID
    elif report.modified_after_signing:
        report.code = Code.MODIFIED_AFTER_SIGNING
        report.detail = report.detail or "; ".join(
            f"{c['kind']}: {c['where']}" for c in report.changes_after if not c["permitted"]) or \
            f"coverage {report.coverage}"
    elif report.revoked:
        report.code = Code.CERTIFICATE_REVOKED
    elif not strong_enough:
        report.code = Code.WEAK_ALGORITHM
    elif report.expired:
        report.code = Code.CERTIFICATE_EXPIRED
    elif not report.trusted:
        report.code = Code.UNTRUSTED_CERTIFICATE
        report.detail = str(status.trust_problem_indic or "no path to a trusted root")
    else:
        report.code = Code.OK
    return report


def _proof_of_existence(emb, tst, context) -> datetime | None:
    """The earliest trusted time at which this signature is proven to exist (its own timestamp, or a
    strong document timestamp over it)."""
    times = []
    if tst is not None and tst.intact and tst.valid and tst.trusted:
        times.append(tst.timestamp)
    times += [s.time for s in context.stamps
              if s.ok and s.strong and s.time is not None and s.revision > emb.signed_revision]
    return min(times) if times else None


def _changes(emb, report, context, index):
    """What changed after this signature, and whether its permissions allow it."""
    coverage = emb.coverage
    if coverage == SignatureCoverageLevel.ENTIRE_FILE and not context.appended:
        report.modification_level, report.modified_after_signing = "NONE", False
        return
    if coverage not in (SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION):
        report.modification_level, report.modified_after_signing = None, True
        report.changes_after = [{"kind": "coverage", "where": f"coverage {coverage.name if coverage else '?'}",
                                 "permitted": False}]
        report.detail = f"coverage {coverage.name if coverage else 'UNCLEAR'}"
        return
    found = []
    if coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        try:
            found = diff.changes_after(emb.reader, emb.signed_revision)
        except diff.AnalysisError as exc:
            found = [diff.Change(diff.Kind.UNANALYSABLE, str(exc))]
    if context.appended:
        found.append(diff.Change(diff.Kind.APPENDED_DATA, context.appended))
    fieldmdp = _fieldmdp(emb)
    judged = diff.judge(found, docmdp=_effective_docmdp(emb, context),
                        is_locked=fieldmdp.is_locked if fieldmdp is not None else None)
    entries, seen = [], set()
    for change, permitted in sorted(judged, key=lambda item: item[1]):  # refusals first
        entry = {**change.as_dict(), "permitted": permitted}
        key = (entry["kind"], change.field or entry["where"])
        if key not in seen:
            seen.add(key)
            entries.append(entry)
    report.changes_after = entries
    report.modified_after_signing = not all(permitted for _, permitted in judged)
    report.modification_level = _level([c for c, _ in judged], report.modified_after_signing)
    visible = [{**c.as_dict(), "rect": list(c.rect)} for c in found if c.rect is not None and c.page is not None]
    if visible:
        context.visible_after[index] = visible


def _fieldmdp(emb):
    try:
        return emb.fieldmdp
    except Exception:  # noqa: BLE001 - an unreadable lock locks everything it could name
        return FieldMDPSpec(FieldMDPAction.ALL)


LTA_KINDS = {diff.Kind.VALIDATION_DATA, diff.Kind.DOCUMENT_TIMESTAMP, diff.Kind.METADATA}
FORM_KINDS = LTA_KINDS | {diff.Kind.STRUCTURE, diff.Kind.SIGNATURE_ADDED, diff.Kind.FORM_FILLED}
ANNOTATION_KINDS = FORM_KINDS | {diff.Kind.COMMENT_ADDED, diff.Kind.ANNOTATION_CHANGED}


def _level(found, refused: bool) -> str:
    """pyHanko's names for how far the changes go (kept for the report's readers)."""
    kinds = {c.kind for c in found}
    if not kinds:
        return "NONE"
    if refused or not kinds <= ANNOTATION_KINDS:
        return "OTHER"
    if kinds <= LTA_KINDS:
        return "LTA_UPDATES"
    if kinds <= FORM_KINDS:
        return "FORM_FILLING"
    return "ANNOTATIONS"


def _revision_end(emb) -> int:
    _, len1, start2, len2 = emb.byte_range
    return start2 + len2


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


def _pades_level(emb, cert, timestamped, context):
    """The PAdES baseline level the signature's structure reaches (ETSI EN 319 142-1 6): B-T with a
    signature timestamp or a document timestamp over it; B-LT when validation data for it (revocation
    information about the signer, added for this signature: its VRI entry, or new data after it) is
    in the document; B-LTA when a document timestamp covers that data."""
    if emb.sig_object.get("/SubFilter") != PADES_SUBFILTER:
        return None
    if not timestamped:
        return "B-B"
    at_signing = _read_dss(emb.reader, emb.signed_revision) if context.ltv.revocation_keys else _Ltv()
    if not _has_ltv(emb, cert, context.ltv, at_signing):
        return "B-T"
    for stamp in context.stamps:
        if stamp.ok and stamp.revision > emb.signed_revision and stamp.covers_dss_of is not None \
                and _has_ltv(emb, cert, stamp.covers_dss_of, at_signing):
            return "B-LTA"
    return "B-LT"


def _has_ltv(emb, cert, state: "_Ltv", at_signing: "_Ltv") -> bool:
    if not state.covers(cert):
        return False
    try:
        contents = emb.sig_object.raw_get("/Contents")
        key = hashlib.sha1(bytes(contents)).hexdigest().upper()  # noqa: S324 - the VRI key's definition
    except (KeyError, TypeError):
        key = ""
    if key in state.vri:
        return True
    return not at_signing.covers(cert) or bool(state.revocation_keys - at_signing.revocation_keys)


CIN_PATTERN = re.compile(r"[^A-Z0-9]")


def _normalise_cin(value) -> str:
    """``AB123456``, ``ab 123456`` and the ETSI semantic form ``IDCMA-AB123456`` give AB123456."""
    value = str(value or "").strip().upper()
    if re.match(r"^IDC[A-Z]{2}[-:]", value):
        value = value[6:]
    return CIN_PATTERN.sub("", value)


def _expected_signers(signer_must_be, signers) -> list[Signer] | None:
    if signers is not None:
        return list(signers)
    if signer_must_be is None:
        return None
    if isinstance(signer_must_be, str):
        return [Signer(cin=signer_must_be)]
    # An account without a CIN can match nobody.
    cin = getattr(signer_must_be, "cin", "") or ""
    name = getattr(signer_must_be, "full_name", None)
    return [Signer(cin=cin, full_name=name if name is not None else None)] if cin else []
