"""The outbox of the CMR gateway: a row written with the certification, and the queueing of its send.

``delivery_record`` builds, in the certification's transaction, what the certification stores
(``Certification.manifest``): the manifest of its delivery exactly as it will be sent (``SENT``) and
the stored file of each name in it (``FILES``). The sender sends that stored manifest, never one of
its own. ``enqueue_transmission`` runs inside the certification's transaction (the outbox row commits or
rolls back with the certification) and queues the send on commit (``queue``: a kick, or at once in
embedded mode). A staff retry puts a row back here (``reset_for_retry``). The sending itself (claim,
post, record the outcome) is ``cmr.sender``'s, run by the task ``cmr.send_transmission``.

A leaf: it imports nothing of the project but ``cmr.models`` (and ``cmr.rules``, pure) and the Celery
app, so ``dossiers`` can hand it a certified dossier, or a CMR agent's stage command, without importing
the rest of the gateway. It names the send task
(``SEND_TASK``, defined in ``cmr.tasks`` and registered when the app is ready, ``cmr.apps``) instead
of importing it.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from eretraite.celery import app

from . import rules
from .models import Transmission

log = logging.getLogger("cmr.callbacks")

SEND_TASK = "cmr.send_transmission"  # cmr/tasks.py
KICK_KEY = "cmr:outbox:kick"
SENT = "sent"  # Certification.manifest[SENT]: the manifest of the delivery, as it is sent
FILES = "files"  # Certification.manifest[FILES]: each file name of that manifest -> its stored file
SLIP_CODE = "transmittal_slip"


def idempotency_key(dossier, round_) -> str:
    return f"{dossier.reference}:{round_}"


def delivery_record(dossier, documents, *, slip, **extra) -> dict:
    """What a certification of ``dossier``'s current round stores: ``{SENT: manifest, FILES: {name:
    stored file}, **extra}`` (``extra``: who certified, when). Built once, in the certification's
    transaction; every attempt sends ``SENT`` as stored (``cmr.sender``), so a replay under the same
    idempotency key carries the same content.

    ``documents``: ``(checklist code, stored file name, size, SHA-256)`` of each document, in the order
    they go; ``slip``: ``(stored file name, size, SHA-256)`` of the transmittal slip, sent last. Sizes and
    digests are the ones recorded at upload and at sealing, not read again: a file changed since is
    refused by the back office. A later round is a supplement to the first one's CMR reference
    (``supplement_to``); if the portal does not know it yet, the manifest is stored without it and the
    sender waits for it, then adds it (the reference, once known, never changes)."""
    named = [(f"{i:02d}-{code}.pdf", code, stored, size, digest)
             for i, (code, stored, size, digest) in enumerate([*documents, (SLIP_CODE, *slip)], start=1)]
    affiliate = dossier.affiliate
    manifest = rules.describe_delivery(
        portal_dossier_id=str(dossier.reference), kind=dossier.kind.code,
        affiliate={"affiliation_number": affiliate.affiliation_number, "ppr": affiliate.ppr, "cin": affiliate.cin},
        collectivity_code=dossier.collectivity.code,
        files=[(name, code, size, digest) for name, code, _stored, size, digest in named],
        supplement_to=first_reference(dossier) if dossier.round > 1 else None, extra={"round": dossier.round})
    return {SENT: manifest, FILES: {name: stored for name, _code, stored, _size, _digest in named}, **extra}


def first_reference(dossier) -> str:
    """The CMR reference of the dossier's first round ("" while the portal does not know it)."""
    return dossier.cmr_reference or (
        Transmission.objects.filter(dossier=dossier, round=1, kind=Transmission.Kind.DELIVERY)
        .values_list("cmr_reference", flat=True).first() or "")


def enqueue_transmission(dossier, certification) -> Transmission:
    """Write the outbox row of this certification (same transaction) and queue its send on commit.

    Embedded mode (no Redis, CELERY_TASK_ALWAYS_EAGER): the send runs synchronously right after the
    certification commits, in the request that certified.
    """
    transmission, _created = Transmission.objects.get_or_create(
        dossier=dossier, round=certification.round, kind=Transmission.Kind.DELIVERY,
        defaults={"idempotency_key": idempotency_key(dossier, certification.round),
                  "next_attempt_at": timezone.now()})
    pk = transmission.pk
    transaction.on_commit(lambda: queue(pk))
    return transmission


def enqueue_command(dossier, stage: str, *, by=None, items=(), text="", reason="", pension=None) -> Transmission:
    """Write a stage command for the back office (a CMR agent's act in the portal) in the caller's
    transaction and queue its send on commit. The portal's state does not change here: it follows the
    back office's confirmation (``cmr.sender``: its answer; or its callback, the same event).

    ``items``: ``[{"code", "label"}]`` of a document request; ``pension``: ``{"number", "monthly",
    "effective"}`` of a liquidation; said in the gateway's vocabulary (``cmr.rules``)."""
    details = {}
    if by is not None and getattr(by, "pk", None):
        details[rules.ACTED_BY] = by.get_full_name() or str(by)
    if stage == rules.DOCUMENTS_REQUESTED:
        details[rules.REQUESTED_DOCUMENTS] = list(items)
        if text:
            details[rules.REQUEST_TEXT] = text
    elif stage == rules.LIQUIDATED and pension:
        details[rules.PENSION_NUMBER] = str(pension["number"])
        details[rules.MONTHLY_AMOUNT] = f"{pension['monthly']:.2f}" if not isinstance(pension["monthly"], str) \
            else pension["monthly"]
        details[rules.EFFECTIVE_DATE] = str(pension["effective"])
    elif stage == rules.REJECTED:
        details[rules.REASON] = reason
    command = Transmission.objects.create(
        dossier=dossier, kind=Transmission.Kind.COMMAND, round=dossier.round, stage=stage, details=details,
        requested_by=by if getattr(by, "pk", None) else None, next_attempt_at=timezone.now(),
        idempotency_key=f"{dossier.reference}:command:{uuid.uuid4().hex[:16]}")
    pk = command.pk
    transaction.on_commit(lambda: queue(pk))
    return command


def reset_for_retry(pk) -> tuple[Transmission, bool]:
    """Put a failed (or waiting) transmission back: attempts reset, due now, its send queued on commit.

    Returns the row (locked until the caller's transaction ends, its dossier joined) and whether it
    was reset; a row in another state is left as it is. No audit: the caller records who asked
    (``cmr.sender.retry_transmission``).
    """
    with transaction.atomic():
        row = Transmission.objects.select_for_update().select_related("dossier").get(pk=pk)
        if row.status not in (Transmission.Status.FAILED, Transmission.Status.PENDING):
            return row, False
        row.status = Transmission.Status.PENDING
        row.attempts = 0
        row.next_attempt_at = timezone.now()
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: queue(row.pk))
    return row, True


def queue(pk, countdown=None):
    """Have transmission ``pk`` sent: a retry by its own task after ``countdown``; otherwise by a kick
    (``kick``: one task serves a burst), or at once in embedded (eager) mode."""
    try:
        if countdown or eager():
            publish(pk, countdown)
        else:
            kick()
    except Exception:  # a broker outage must not fail the certification: the sweep sends it
        if eager():
            log.exception("CMR transmission %s: the send failed; it stays in the outbox", pk)
        else:
            log.warning("CMR transmission %s: could not queue the send; the sweep will", pk, exc_info=True)


def eager() -> bool:
    """Embedded mode: tasks run in the calling process (no broker)."""
    return bool(app.conf.task_always_eager)


def publish(pk, countdown=None):
    """Queue the task ``cmr.send_transmission(pk)`` (``None``: a kick); in eager mode it runs here."""
    app.tasks[SEND_TASK].apply_async((pk,), countdown=countdown or None)


def kick() -> bool:
    """Wake a worker to send what is due. While a kick task is queued and has not started (the cache
    key, set for ``CMR_KICK_SECONDS`` at most), no other is queued: that one will claim every row
    committed before it starts. So a burst of certifications costs a few tasks, not one each; a kick
    lost with its broker costs at most ``CMR_KICK_SECONDS`` (and the sweep finds its rows anyway).
    Returns whether a task was queued."""
    try:
        first = cache.add(KICK_KEY, 1, timeout=settings.CMR_KICK_SECONDS)
    except Exception:  # noqa: BLE001 (no cache: queue one anyway; a spare kick finds nothing to do)
        log.warning("CMR outbox: the kick key could not be set; queueing anyway", exc_info=True)
        first = True
    if not first:
        return False
    try:
        publish(None)
    except Exception:
        with contextlib.suppress(Exception):  # the next certification must try again
            cache.delete(KICK_KEY)
        raise
    return True


def clear_kick() -> None:
    """A kick has started (``cmr.sender.drain``): a row committed from here on queues a kick of its own."""
    with contextlib.suppress(Exception):  # no cache: the key ends with its timeout
        cache.delete(KICK_KEY)
