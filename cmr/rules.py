"""Pure rules of the exchange with the CMR back office. No Django, no ORM, no I/O.

One implementation shared by both ends of the wire:

- the mock back office (``cmr.mock``) builds and *signs* stage events and checks delivery manifests;
- the portal *verifies* the callbacks (``cmr.views``) and builds a delivery's manifest once, at
  certification (``cmr.outbox.delivery_record``).

Callback signature: ``X-CMR-Signature: sha256=<hex>`` where ``<hex>`` is
HMAC-SHA256(secret, ``<timestamp>.<raw body>``) and ``<timestamp>`` is the integer Unix time sent in
``X-CMR-Timestamp``. A callback is accepted only within ``tolerance`` seconds (5 minutes) of now,
either side, so a captured request cannot be replayed later; the event id, recorded once applied,
stops replays inside the window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

# --- stages ---------------------------------------------------------------------------------------

RECEIVED = "received"
UNDER_REVIEW = "under_review"
DOCUMENTS_REQUESTED = "documents_requested"
LIQUIDATED = "liquidated"
IN_PAYMENT = "in_payment"
REJECTED = "rejected"

STAGES = (RECEIVED, UNDER_REVIEW, DOCUMENTS_REQUESTED, LIQUIDATED, IN_PAYMENT, REJECTED)
TERMINAL_STAGES = frozenset({IN_PAYMENT, REJECTED})

# The back office's own liquidation workflow (what the mock enforces). The portal's dossier workflow
# keeps its own table; this one only says what the CMR side may report.
STAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({UNDER_REVIEW, REJECTED}),
    UNDER_REVIEW: frozenset({DOCUMENTS_REQUESTED, LIQUIDATED, REJECTED}),
    DOCUMENTS_REQUESTED: frozenset({UNDER_REVIEW, REJECTED}),
    LIQUIDATED: frozenset({IN_PAYMENT}),
    IN_PAYMENT: frozenset(),
    REJECTED: frozenset(),
}

# The path a dossier follows on the demo timer.
HAPPY_PATH = (RECEIVED, UNDER_REVIEW, LIQUIDATED, IN_PAYMENT)


def can_move(current: str, target: str) -> bool:
    return target in STAGE_TRANSITIONS.get(current, frozenset())


# --- callback signature ---------------------------------------------------------------------------

TIMESTAMP_HEADER = "X-CMR-Timestamp"
SIGNATURE_HEADER = "X-CMR-Signature"
EVENT_ID_HEADER = "X-CMR-Event-Id"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300


class CallbackRejected(Exception):
    """A callback that must not be applied. ``code`` is stable (logs, tests); ``status`` is HTTP."""

    def __init__(self, code: str, detail: str = "", status: int = 400):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status


def _key(secret: str | bytes) -> bytes:
    if not secret:
        raise ValueError("the callback secret is empty")
    return secret.encode() if isinstance(secret, str) else secret


def compute_signature(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def signature_headers(secret: str | bytes, body: bytes, *,
                      now: float | None = None) -> dict[str, str]:
    """The headers that sign ``body`` at ``now`` (Unix seconds)."""
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: compute_signature(secret, timestamp, body),
    }


def verify_signature(secret: str | bytes, *, timestamp: str | None, signature: str | None,
                     body: bytes, now: float | None = None,
                     tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> int:
    """Check a callback's signature and freshness; return its timestamp or raise (status 401).

    The signature is checked before the clock, in constant time, so that an unsigned request learns
    nothing about the window.
    """
    if not timestamp or not signature:
        raise CallbackRejected("missing_signature", "timestamp or signature header absent", 401)
    if not re.fullmatch(r"\d{1,12}", timestamp.strip()):
        raise CallbackRejected("bad_timestamp", "timestamp is not Unix seconds", 401)
    expected = compute_signature(secret, timestamp.strip(), body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise CallbackRejected("bad_signature", "signature does not match", 401)
    ts = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise CallbackRejected(
            "stale_timestamp", f"timestamp is {int(current - ts)} s away from now", 401)
    return ts


# --- stage events ---------------------------------------------------------------------------------

EVENT_REQUIRED_FIELDS = ("event_id", "cmr_reference", "portal_dossier_id", "stage", "occurred_at")
_EVENT_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{8,100}")
MAX_EVENT_BYTES = 64 * 1024


@dataclass(frozen=True)
class StageEvent:
    """One stage change reported by the back office."""

    event_id: str
    cmr_reference: str
    portal_dossier_id: str
    stage: str
    occurred_at: datetime
    previous_stage: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "cmr_reference": self.cmr_reference,
            "portal_dossier_id": self.portal_dossier_id,
            "stage": self.stage,
            "previous_stage": self.previous_stage,
            "occurred_at": format_datetime(self.occurred_at),
            "details": self.details,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_payload(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a time zone is required")
    return parsed


def parse_event(body: bytes) -> StageEvent:
    """Parse and validate a callback body; raise ``CallbackRejected`` (status 400) if it is bad."""
    if len(body) > MAX_EVENT_BYTES:
        raise CallbackRejected("too_large", f"body over {MAX_EVENT_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CallbackRejected("malformed_json", str(exc)) from None
    if not isinstance(data, dict):
        raise CallbackRejected("malformed_json", "the body is not a JSON object")
    missing = [name for name in EVENT_REQUIRED_FIELDS if data.get(name) in (None, "")]
    if missing:
        raise CallbackRejected("missing_field", ", ".join(missing))
    event_id = data["event_id"]
    if not isinstance(event_id, str) or not _EVENT_ID_RE.fullmatch(event_id):
        raise CallbackRejected("bad_field", "event_id")
    reference = data["cmr_reference"]
    if not isinstance(reference, str) or len(reference) > 64:
        raise CallbackRejected("bad_field", "cmr_reference")
    portal_id = data["portal_dossier_id"]
    if (isinstance(portal_id, bool) or not isinstance(portal_id, str | int)
            or not str(portal_id) or len(str(portal_id)) > 64):
        raise CallbackRejected("bad_field", "portal_dossier_id")
    stage = data["stage"]
    if stage not in STAGES:
        raise CallbackRejected("unknown_stage", str(stage)[:50])
    previous = data.get("previous_stage")
    if previous is not None and previous not in STAGES:
        raise CallbackRejected("unknown_stage", f"previous_stage {str(previous)[:50]}")
    try:
        if not isinstance(data["occurred_at"], str):
            raise ValueError("not a string")
        occurred_at = parse_datetime(data["occurred_at"])
    except ValueError:
        raise CallbackRejected("bad_field", "occurred_at") from None
    details = data.get("details") or {}
    if not isinstance(details, dict):
        raise CallbackRejected("bad_field", "details")
    return StageEvent(
        event_id=event_id,
        cmr_reference=reference,
        portal_dossier_id=str(portal_id),
        stage=stage,
        previous_stage=previous,
        occurred_at=occurred_at,
        details=details,
    )


# --- stage commands and stage details -------------------------------------------------------------
#
# A CMR agent's act in the portal is a command to the back office (``POST /dossiers/{ref}/stages``,
# with an Idempotency-Key): the back office applies it as its own stage change and reports it like
# any other (its answer carries the event, its callback the same event id). The details a stage
# carries are one vocabulary for the command, the answer, the callback and the history.

REQUESTED_DOCUMENTS = "requested_documents"  # [{"code": checklist item code, "label": optional}]
REQUEST_TEXT = "text"  # free text of a request
REASON = "reason"  # a rejection's reason
PENSION_NUMBER = "pension_number"
MONTHLY_AMOUNT = "monthly_amount"  # a decimal string, dirhams a month
EFFECTIVE_DATE = "effective_date"  # YYYY-MM-DD
ACTED_BY = "by"  # the CMR agent's name, as the portal knows him
COMMAND_STAGES = (UNDER_REVIEW, DOCUMENTS_REQUESTED, LIQUIDATED, IN_PAYMENT, REJECTED)
_CODE_RE = re.compile(r"[a-z0-9_]{1,60}")
_AMOUNT_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")


def details_errors(stage: str, details: Any) -> list[str]:
    """What a stage's details lack or get wrong (empty when they are sound): a document request names
    items or says what it wants, a liquidation gives the pension number, amount and effective date, a
    rejection its reason."""
    if not isinstance(details, dict):
        return ["details: a JSON object is required"]
    errors = []
    if stage == DOCUMENTS_REQUESTED:
        items = details.get(REQUESTED_DOCUMENTS) or []
        if not isinstance(items, list):
            return [f"{REQUESTED_DOCUMENTS}: a list"]
        for i, item in enumerate(items):
            code = item.get("code") if isinstance(item, dict) else None
            if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
                errors.append(f"{REQUESTED_DOCUMENTS}[{i}].code: a checklist item code")
        text = details.get(REQUEST_TEXT, "")
        if not isinstance(text, str) or len(text) > 2000:
            errors.append(f"{REQUEST_TEXT}: at most 2000 characters")
        if not items and not (isinstance(text, str) and text.strip()):
            errors.append("a request names documents or says what is wanted")
    elif stage == LIQUIDATED:
        number = details.get(PENSION_NUMBER)
        if not isinstance(number, str) or not 1 <= len(number.strip()) <= 40:
            errors.append(f"{PENSION_NUMBER}: required")
        amount = details.get(MONTHLY_AMOUNT)
        if not isinstance(amount, str) or not _AMOUNT_RE.fullmatch(amount) or float(amount) <= 0:
            errors.append(f"{MONTHLY_AMOUNT}: a positive amount such as 4512.30")
        try:
            date.fromisoformat(str(details.get(EFFECTIVE_DATE, "")))
        except ValueError:
            errors.append(f"{EFFECTIVE_DATE}: a date YYYY-MM-DD")
    elif stage == REJECTED:
        reason = details.get(REASON)
        if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 2000:
            errors.append(f"{REASON}: required (at most 2000 characters)")
    return errors


def command_fingerprint(stage: str, details: dict[str, Any]) -> str:
    """Identifies a command's content: the same key with other content is a conflict."""
    return sha256_hex(json.dumps({"stage": stage, "details": details}, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False).encode())


# --- delivery manifest ----------------------------------------------------------------------------

MANIFEST_FIELD = "manifest"
FILE_FIELD = "file"
DOSSIER_KINDS = ("age_limit", "early", "invalidity", "death", "refund", "supplementary")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,150}")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(*, portal_dossier_id: str | int, kind: str, affiliate: dict[str, Any],
                   collectivity_code: str, documents: list[tuple[str, str, bytes]],
                   supplement_to: str | None = None, extra: dict | None = None) -> dict[str, Any]:
    """The manifest of one delivery from its files' content. ``documents``: (file name, checklist code,
    content[, SHA-256]); without a digest, that of the content. See ``describe_delivery``."""
    return describe_delivery(
        portal_dossier_id=portal_dossier_id, kind=kind, affiliate=affiliate, collectivity_code=collectivity_code,
        files=[(name, code, len(content), (digest or [sha256_hex(content)])[0])
               for name, code, content, *digest in documents],
        supplement_to=supplement_to, extra=extra)


def describe_delivery(*, portal_dossier_id: str | int, kind: str, affiliate: dict[str, Any],
                      collectivity_code: str, files: list[tuple[str, str, int, str]],
                      supplement_to: str | None = None, extra: dict | None = None) -> dict[str, Any]:
    """The manifest of one delivery, its files described, not read: ``files``: (file name, checklist
    code, size, SHA-256).

    The portal builds it once, at certification, with the sizes and digests it recorded at upload (the
    slip's at its sealing), stores it and sends it as stored on every attempt (``cmr.outbox``): if a
    stored file changed since, the back office refuses it instead of accepting a document nobody
    certified."""
    manifest: dict[str, Any] = {
        "portal_dossier_id": str(portal_dossier_id),
        "kind": kind,
        "affiliate": affiliate,
        "collectivity_code": collectivity_code,
        "documents": [{"name": name, "code": code, "size": size, "sha256": digest}
                      for name, code, size, digest in files],
    }
    if supplement_to:
        manifest["supplement_to"] = supplement_to
    if extra:
        manifest.update(extra)
    return manifest


def manifest_fingerprint(manifest: dict[str, Any]) -> str:
    """Identifies a delivery's content: the manifest carries every file's digest."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(canonical.encode())


def manifest_errors(manifest: Any) -> list[str]:
    """What is wrong with a manifest's shape (not its files). Empty when it is well formed."""
    if not isinstance(manifest, dict):
        return ["manifest: not a JSON object"]
    errors = []
    portal_id = manifest.get("portal_dossier_id")
    if isinstance(portal_id, bool) or not isinstance(portal_id, str | int) or str(portal_id) == "":
        errors.append("portal_dossier_id: required")
    if not isinstance(manifest.get("kind"), str) or not manifest.get("kind"):
        errors.append("kind: required")
    affiliate = manifest.get("affiliate")
    if not isinstance(affiliate, dict) or not affiliate:
        errors.append("affiliate: an object of identifiers is required")
    code = manifest.get("collectivity_code")
    if not isinstance(code, str) or not code:
        errors.append("collectivity_code: required")
    supplement_to = manifest.get("supplement_to")
    if supplement_to is not None and not isinstance(supplement_to, str):
        errors.append("supplement_to: a CMR reference")
    documents = manifest.get("documents")
    if not isinstance(documents, list) or not documents:
        errors.append("documents: a non-empty list is required")
        return errors
    seen = set()
    for i, doc in enumerate(documents):
        if not isinstance(doc, dict):
            errors.append(f"documents[{i}]: not an object")
            continue
        name = doc.get("name")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            errors.append(f"documents[{i}].name: a plain file name is required")
        elif name in seen:
            errors.append(f"documents[{i}].name: {name} listed twice")
        else:
            seen.add(name)
        digest = doc.get("sha256")
        if not isinstance(digest, str) or not _SHA256_RE.fullmatch(digest):
            errors.append(f"documents[{i}].sha256: 64 lowercase hex digits are required")
        size = doc.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            errors.append(f"documents[{i}].size: a non-negative integer")
    return errors


def file_errors(manifest: dict[str, Any], files: dict[str, bytes]) -> list[str]:
    """Check the received files against a well-formed manifest: each present once, digest equal."""
    errors = []
    listed = {doc["name"]: doc for doc in manifest["documents"]}
    for name, doc in listed.items():
        content = files.get(name)
        if content is None:
            errors.append(f"{name}: listed in the manifest but not received")
            continue
        if sha256_hex(content) != doc["sha256"]:
            errors.append(f"{name}: SHA-256 does not match the manifest")
        elif doc.get("size") is not None and doc["size"] != len(content):
            errors.append(f"{name}: size does not match the manifest")
    for name in files:
        if name not in listed:
            errors.append(f"{name}: received but not listed in the manifest")
    return errors


# --- retry schedule -------------------------------------------------------------------------------

def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """Exponential back-off for attempt ``attempt`` (1 = first retry), with ``jitter`` in [0, 1).

    ``jitter`` comes from the caller (a random draw), so that this function stays pure.
    "Equal jitter": half the exponential delay, plus up to the other half.
    """
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay / 2 + (delay / 2) * jitter
