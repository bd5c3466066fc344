"""Writes of the CMR gateway: applying the back office's stage events once.

The view (``cmr.views.callback``) has already checked the signature, the timestamp and the payload
(``cmr.rules``); ``receive_stage_event`` records the event id and applies the stage in one
transaction, so a replayed event changes nothing and a refused one leaves no trace but a log line.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import rules
from .models import CmrEvent, Transmission

log = logging.getLogger("cmr.callbacks")

APPLIED = "applied"
DUPLICATE = "duplicate"


class StageEventRefused(Exception):
    """The event cannot be applied now; nothing was recorded. ``status`` is the HTTP answer."""

    status = 400
    code = "refused"


class UnknownDossier(StageEventRefused):
    """No dossier of the portal matches the event's CMR reference / portal dossier id."""

    status = 404
    code = "unknown_dossier"


class StageNotAllowed(StageEventRefused):
    """The dossier workflow does not allow this stage from the dossier's current state."""

    status = 409
    code = "stage_not_allowed"


def receive_stage_event(event: rules.StageEvent) -> str:
    """Apply a verified stage event exactly once: ``APPLIED``, or ``DUPLICATE`` if already applied.

    Raises ``UnknownDossier`` or ``StageNotAllowed`` (from ``apply_stage_event``) with nothing
    recorded. Two deliveries of one event at the same moment are serialised by the unique event id:
    the second waits for the first's transaction, then finds the id taken.
    """
    if CmrEvent.objects.filter(event_id=event.event_id).exists():
        return DUPLICATE
    with transaction.atomic():
        try:
            with transaction.atomic():
                CmrEvent.objects.create(
                    event_id=event.event_id,
                    cmr_reference=event.cmr_reference,
                    portal_dossier_id=event.portal_dossier_id,
                    stage=event.stage,
                    previous_stage=event.previous_stage or "",
                    occurred_at=event.occurred_at,
                    details=event.details,
                )
        except IntegrityError:
            return DUPLICATE
        apply_stage_event(event)  # raises to roll the event row back
    log.info("CMR event %s applied: %s -> %s", event.event_id, event.cmr_reference, event.stage)
    return APPLIED


def apply_stage_event(event: rules.StageEvent) -> None:
    """Apply one CMR stage to its dossier through the dossier workflow (timeline, notifications).

    Called inside ``receive_stage_event``'s transaction, after the event id was recorded. Raises
    ``UnknownDossier`` (404; the back office retries) or ``StageNotAllowed`` (409), writing nothing.
    The event names the portal's dossier by its reference (the UUID the outbox sends).
    """
    from django.core.exceptions import PermissionDenied

    from dossiers.models import Dossier
    from dossiers.services import DossierError, apply_cmr_stage

    try:
        with transaction.atomic():
            apply_cmr_stage(portal_dossier_id=event.portal_dossier_id, stage=event.stage,
                            event_id=event.event_id, cmr_reference=event.cmr_reference,
                            details=event.details)
    except Dossier.DoesNotExist:
        raise UnknownDossier(f"no dossier {event.portal_dossier_id} (CMR {event.cmr_reference})") from None
    except (DossierError, PermissionDenied) as exc:
        raise StageNotAllowed(str(exc)) from exc


def reconcile_stages(reference: str, *, client=None) -> list[tuple[str, str]]:
    """Ask the back office for a dossier's stage history and apply what the callbacks missed.

    For a periodic task over dossiers whose callbacks may have been lost. Each history entry carries
    the event id its callback carried, so an entry applied by a callback is a ``DUPLICATE`` here and
    a callback arriving after reconciliation changes nothing. Entries are applied in order; the
    first refusal (``UnknownDossier``, ``StageNotAllowed``) stops the pass and is raised.
    Network failures raise the client's ``CmrRetryableError`` / ``CmrPermanentError``.

    Returns ``(event_id, outcome)`` for each entry.
    """
    from .client import get_client

    data = (client or get_client()).get_stages(reference)
    outcomes = []
    for entry in data.get("history") or []:
        event = rules.parse_event(rules.StageEvent(
            event_id=entry["event_id"],
            cmr_reference=data.get("reference") or reference,
            portal_dossier_id=str(data["portal_dossier_id"]),
            stage=entry["stage"],
            previous_stage=entry.get("previous_stage"),
            occurred_at=rules.parse_datetime(entry["occurred_at"]),
            details=entry.get("details") or {},
        ).to_json())  # the same validation as a callback's
        outcomes.append((event.event_id, receive_stage_event(event)))
    if outcomes:
        log.info("CMR %s reconciled: %s", reference, outcomes)
    return outcomes


# --- the outbox -----------------------------------------------------------------------------------
#
# ``enqueue_transmission`` runs inside the certification's transaction (the outbox row commits or
# rolls back with the certification) and queues the send on commit. ``send_transmission`` claims the
# row with SELECT ... FOR UPDATE SKIP LOCKED, marks it "sending" with a lease (``locked_until``),
# posts outside any transaction, then records the outcome. A lost queue message or a worker killed
# mid-send leaves a row that ``due_transmissions`` finds again (due, or lease expired); the
# idempotency key makes the resend safe.

SENT = "delivered"
RETRY = "retry"
FAILED = "failed"
SKIPPED = "skipped"

CLOSED_STATES = ("in_payment", "rejected", "cancelled")


def idempotency_key(dossier, round_) -> str:
    return f"{dossier.reference}:{round_}"


def enqueue_transmission(dossier, certification) -> Transmission:
    """Write the outbox row of this certification (same transaction) and queue its send on commit.

    Embedded mode (no Redis, CELERY_TASK_ALWAYS_EAGER): the send runs synchronously right after the
    certification commits, in the request that certified.
    """
    transmission, _created = Transmission.objects.get_or_create(
        dossier=dossier, round=certification.round,
        defaults={"idempotency_key": idempotency_key(dossier, certification.round),
                  "next_attempt_at": timezone.now()})
    pk = transmission.pk
    transaction.on_commit(lambda: _queue(pk))
    return transmission


def _queue(pk, countdown=None):
    from .tasks import send_transmission as task

    try:
        if countdown:
            task.apply_async((pk,), countdown=countdown)
        else:
            task.delay(pk)
    except Exception:  # a broker outage must not fail the certification: the sweep sends it
        if settings.CELERY_TASK_ALWAYS_EAGER:
            log.exception("CMR transmission %s: the send failed; it stays in the outbox", pk)
        else:
            log.warning("CMR transmission %s: could not queue the send; the sweep will", pk, exc_info=True)


def lease_seconds() -> float:
    return settings.CMR_CONNECT_TIMEOUT + settings.CMR_READ_TIMEOUT + settings.CMR_SEND_LEASE_MARGIN_SECONDS


def backoff_seconds(attempts: int, *, rng=random) -> float:
    """Exponential back-off with jitter: half the capped delay fixed, half random."""
    delay = min(settings.CMR_RETRY_MAX_SECONDS, settings.CMR_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def _claimable(now):
    return Q(status=Transmission.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Transmission.Status.SENDING, locked_until__lt=now)


def claim(pk) -> Transmission | None:
    """Take the row for this worker, or None if another worker holds it, it is not due, or done."""
    now = timezone.now()
    with transaction.atomic():
        transmission = (Transmission.objects.select_for_update(skip_locked=True)
                        .filter(_claimable(now), pk=pk).first())
        if transmission is None:
            return None
        transmission.status = Transmission.Status.SENDING
        transmission.claimed_at = now
        transmission.locked_until = now + timedelta(seconds=lease_seconds())
        transmission.attempts += 1
        transmission.save(update_fields=["status", "claimed_at", "locked_until", "attempts"])
    return transmission


def build_delivery(transmission) -> tuple[dict, list[tuple[str, bytes]]]:
    """The manifest and PDFs of one round: its documents (with SHA-256) and the transmittal slip."""
    from dossiers.models import Certification

    dossier = transmission.dossier
    docs = []
    for i, document in enumerate(dossier.documents.filter(round=transmission.round)
                                 .select_related("item").order_by("pk"), start=1):
        with document.file.open("rb") as fh:
            docs.append((f"{i:02d}-{document.item.code}.pdf", document.item.code, fh.read()))
    certification = Certification.objects.filter(dossier=dossier, round=transmission.round).first()
    if certification is not None and certification.slip:
        with certification.slip.open("rb") as fh:
            docs.append((f"{len(docs) + 1:02d}-transmittal_slip.pdf", "transmittal_slip", fh.read()))
    supplement_to = None
    if transmission.round > 1:
        supplement_to = dossier.cmr_reference or (
            Transmission.objects.filter(dossier=dossier, round=1).values_list("cmr_reference", flat=True).first())
        if not supplement_to:
            raise _NotReady("the first round has no CMR reference yet")
    affiliate = dossier.affiliate
    manifest = rules.build_manifest(
        portal_dossier_id=str(dossier.reference), kind=dossier.kind.code,
        affiliate={"affiliation_number": affiliate.affiliation_number, "ppr": affiliate.ppr, "cin": affiliate.cin},
        collectivity_code=dossier.collectivity.code, documents=docs, supplement_to=supplement_to,
        extra={"round": transmission.round})
    return manifest, [(name, content) for name, _code, content in docs]


class _NotReady(Exception):
    pass


def send_transmission(pk, *, client=None) -> str:
    """Claim and send one transmission; ``SENT``, ``RETRY``, ``FAILED`` or ``SKIPPED``."""
    from .client import CmrError, get_client

    transmission = claim(pk)
    if transmission is None:
        return SKIPPED
    transmission = Transmission.objects.select_related(
        "dossier", "dossier__kind", "dossier__affiliate", "dossier__collectivity").get(pk=transmission.pk)
    try:
        manifest, files = build_delivery(transmission)
        receipt = (client or get_client()).send_dossier(
            idempotency_key=transmission.idempotency_key, manifest=manifest, files=files)
    except _NotReady as exc:
        return _record_failure(transmission, str(exc), retryable=True, count=False)
    except CmrError as exc:
        return _record_failure(transmission, str(exc), retryable=exc.retryable)
    except (OSError, ValueError) as exc:  # a missing file: staff must look
        return _record_failure(transmission, f"{type(exc).__name__}: {exc}", retryable=False)
    _record_delivery(transmission, receipt.reference)
    return SENT


def _record_delivery(transmission, reference):
    from dossiers.models import Dossier
    from dossiers.services import apply_transition

    now = timezone.now()
    with transaction.atomic():
        row = Transmission.objects.select_for_update().get(pk=transmission.pk)
        if row.status == Transmission.Status.DELIVERED:
            return
        row.status = Transmission.Status.DELIVERED
        row.cmr_reference = reference
        row.delivered_at = now
        row.locked_until = None
        row.last_error = ""
        row.save(update_fields=["status", "cmr_reference", "delivered_at", "locked_until", "last_error"])
        dossier = Dossier.objects.select_for_update().get(pk=row.dossier_id)
        if row.round == 1 and not dossier.cmr_reference:
            Dossier.objects.filter(pk=dossier.pk).update(cmr_reference=reference)
        if dossier.state == "certified":
            apply_transition(dossier.pk, "transmit", by=None, data={"cmr_reference": reference,
                                                                    "round": row.round})
    log.info("CMR transmission %s delivered: %s", transmission.idempotency_key, reference)


def _record_failure(transmission, error, *, retryable, count=True) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = Transmission.objects.select_for_update().get(pk=transmission.pk)
        if row.status == Transmission.Status.DELIVERED:
            return SENT
        row.last_error = error[:4000]
        row.locked_until = None
        if not count:
            row.attempts = max(row.attempts - 1, 0)
        if retryable and row.attempts < settings.CMR_SEND_MAX_ATTEMPTS:
            row.status = Transmission.Status.PENDING
            delay = backoff_seconds(row.attempts)
            row.next_attempt_at = now + timedelta(seconds=delay)
            outcome = RETRY
        else:
            row.status = Transmission.Status.FAILED
            delay = None
            outcome = FAILED
        row.save(update_fields=["last_error", "locked_until", "attempts", "status", "next_attempt_at"])
    if outcome == RETRY:
        log.warning("CMR transmission %s: attempt %s failed (%s); next in %.1f s",
                    row.idempotency_key, row.attempts, error, delay)
        if not settings.CELERY_TASK_ALWAYS_EAGER:  # eager mode: the sweep (or staff) retries
            transaction.on_commit(lambda: _queue(row.pk, countdown=delay))
    else:
        log.error("CMR transmission %s failed after %s attempt(s): %s", row.idempotency_key, row.attempts, error)
    return outcome


def retry_transmission(pk, *, by=None) -> Transmission:
    """Staff retry of a failed (or waiting) transmission: attempts reset, sent now."""
    from accounts.services import record_audit

    with transaction.atomic():
        row = Transmission.objects.select_for_update().select_related("dossier").get(pk=pk)
        if row.status in (Transmission.Status.FAILED, Transmission.Status.PENDING):
            row.status = Transmission.Status.PENDING
            row.attempts = 0
            row.next_attempt_at = timezone.now()
            row.save(update_fields=["status", "attempts", "next_attempt_at"])
            record_audit("cmr.transmission_retried", actor=by, target=row.dossier,
                         collectivity=row.dossier.collectivity, data={"key": row.idempotency_key})
            transaction.on_commit(lambda: _queue(row.pk))
    row.refresh_from_db()
    return row


def due_transmissions(*, now=None, limit=500) -> list[int]:
    """Pending transmissions that are due, and those whose sender vanished (lease expired)."""
    now = now or timezone.now()
    return list(Transmission.objects.filter(_claimable(now)).order_by("next_attempt_at")
                .values_list("pk", flat=True)[:limit])


def dossiers_to_reconcile(*, quiet_seconds=None, limit=200) -> list[str]:
    """CMR references of delivered dossiers not closed, with no stage event for a while."""
    from dossiers.models import Dossier

    quiet = quiet_seconds if quiet_seconds is not None else settings.CMR_RECONCILE_QUIET_SECONDS
    since = timezone.now() - timedelta(seconds=quiet)
    recent = CmrEvent.objects.filter(applied_at__gte=since).values("cmr_reference")
    return list(Dossier.objects.exclude(cmr_reference="").exclude(state__in=CLOSED_STATES)
                .filter(transmissions__status=Transmission.Status.DELIVERED, transmissions__round=1,
                        transmissions__delivered_at__lt=since, state_changed_at__lt=since)
                .exclude(cmr_reference__in=recent).order_by("state_changed_at")
                .values_list("cmr_reference", flat=True)[:limit])


def reconcile(*, quiet_seconds=None, limit=200) -> dict:
    from .client import CmrError

    counts = {"dossiers": 0, "applied": 0, "errors": 0}
    for reference in dossiers_to_reconcile(quiet_seconds=quiet_seconds, limit=limit):
        counts["dossiers"] += 1
        try:
            outcomes = reconcile_stages(reference)
        except (CmrError, StageEventRefused) as exc:
            counts["errors"] += 1
            log.warning("CMR %s: reconciliation stopped: %s", reference, exc)
            continue
        counts["applied"] += sum(1 for _id, outcome in outcomes if outcome == APPLIED)
    return counts
