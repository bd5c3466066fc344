"""The sending of the CMR outbox: claim due rows, read their deliveries, post them, record the outcomes.

``send_transmissions`` claims a batch with SELECT ... FOR UPDATE SKIP LOCKED, marks the rows
"sending" with a lease (``locked_until``), posts outside any transaction, then records the outcomes
together (deliveries move their dossiers to "transmitted"). A lost queue message or a worker killed
mid-send leaves a row that ``cmr.selectors.due_transmissions`` finds again (due, or lease expired);
the idempotency key makes the resend safe. The rows are written and queued by ``cmr.outbox``; the
tasks that call this module are in ``cmr.tasks``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.utils import timezone

from accounts.services import record_audit
from dossiers.models import Certification, Dossier
from dossiers.services import apply_transition_many
from dossiers.tasks import notify_delivery_failed

from . import outbox
from .client import CmrError, get_client
from .models import Transmission
from .selectors import claimable
from .stages import StageEventRefused, receive_stage_event

log = logging.getLogger("cmr.callbacks")

SENT = "delivered"
RETRY = "retry"
FAILED = "failed"
SKIPPED = "skipped"


def drain(*, client=None, budget_seconds=None, fan_out=None) -> dict[int, str]:
    """The kick task: send due transmissions batch after batch, until a batch is not full (nothing is
    left due) or ``CMR_SEND_DRAIN_SECONDS`` have passed (then another kick carries on). A full batch
    first kicks again, so idle worker threads share a burst (``fan_out``; never in eager mode, where
    a kick would run inside this one). The kick key is cleared first: a row committed from here on
    queues a kick of its own. Also ``manage.py cmr_outbox`` (no fan-out)."""
    outbox.clear_kick()
    limit = settings.CMR_SEND_BATCH
    deadline = time.monotonic() + (budget_seconds if budget_seconds is not None else settings.CMR_SEND_DRAIN_SECONDS)
    fan_out = (fan_out is not False) and not outbox.eager()
    results = {}
    while True:
        claimed, outcomes = _send_batch(None, client=client, limit=limit, when_full=outbox.kick if fan_out else None)
        results.update(outcomes)
        if claimed < limit:
            return results
        if time.monotonic() > deadline:
            if fan_out:
                try:
                    outbox.kick()
                except Exception:  # noqa: BLE001 (no broker: the sweep kicks)
                    log.warning("CMR outbox: could not hand over to a new kick", exc_info=True)
            return results


def batch_lease_seconds() -> float:
    """How long a batch may hold its rows before they are presumed abandoned: no send starts after
    ``CMR_SEND_BATCH_SECONDS``, the last one started may take its timeouts, and a margin."""
    return (settings.CMR_SEND_BATCH_SECONDS + settings.CMR_CONNECT_TIMEOUT + settings.CMR_READ_TIMEOUT
            + settings.CMR_SEND_LEASE_MARGIN_SECONDS)


def backoff_seconds(attempts: int, *, rng=random) -> float:
    """Exponential back-off with jitter: half the capped delay fixed, half random."""
    delay = min(settings.CMR_RETRY_MAX_SECONDS, settings.CMR_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def claim_batch(first=None, *, limit=None) -> list[Transmission]:
    """Take up to ``limit`` claimable rows for this worker (``first`` before the others, if claimable).

    ``SELECT ... FOR UPDATE SKIP LOCKED``: two workers never take the same row. The lease covers the
    whole batch (``batch_lease_seconds``); a worker that dies mid-batch leaves rows the sweep takes
    again when it ends.
    """
    limit = limit or settings.CMR_SEND_BATCH
    now = timezone.now()
    with transaction.atomic():
        rows = list(Transmission.objects.select_for_update(skip_locked=True).filter(claimable(now))
                    .order_by(Case(When(pk=first or 0, then=Value(0)), default=Value(1)), "next_attempt_at", "pk")
                    .values_list("pk", "attempts")[:limit])
        # a row whose senders vanished (or could not record) every time it was tried: staff must look
        abandoned = [pk for pk, attempts in rows if attempts >= settings.CMR_SEND_MAX_ATTEMPTS]
        if abandoned:
            Transmission.objects.filter(pk__in=abandoned).update(
                status=Transmission.Status.FAILED, locked_until=None,
                last_error=f"no outcome was recorded after {settings.CMR_SEND_MAX_ATTEMPTS} attempts")
            log.error("CMR transmissions %s failed: no outcome recorded after the last attempt", abandoned)
        pks = [pk for pk, attempts in rows if attempts < settings.CMR_SEND_MAX_ATTEMPTS]
        if not pks:
            return []
        locked_until = now + timedelta(seconds=batch_lease_seconds())
        Transmission.objects.filter(pk__in=pks).update(status=Transmission.Status.SENDING, claimed_at=now,
                                                       locked_until=locked_until, attempts=F("attempts") + 1)
    rows = Transmission.objects.select_related("dossier").in_bulk(pks)
    return [rows[pk] for pk in pks]


def build_deliveries(transmissions) -> dict[int, tuple[dict, list[tuple[str, bytes]]] | Exception]:
    """Each transmission's manifest and PDFs: the manifest its certification stored (``outbox.SENT``),
    as it is, and the files it names, read from storage; in two queries for the lot. One that cannot be
    built maps to its error."""
    keys = {(t.dossier_id, t.round) for t in transmissions}
    records, first_references = {}, {}
    for dossier_id, round_, record in (Certification.objects.filter(dossier_id__in={d for d, _r in keys})
                                       .values_list("dossier_id", "round", "manifest")):
        if (dossier_id, round_) in keys:
            records[(dossier_id, round_)] = record
    waiting = [t.dossier_id for t in transmissions if t.round > 1 and not t.dossier.cmr_reference]
    if waiting:
        first_references = dict(Transmission.objects.filter(dossier_id__in=waiting, round=1,
                                                            kind=Transmission.Kind.DELIVERY)
                                .values_list("dossier_id", "cmr_reference"))
    out = {}
    for t in transmissions:
        try:
            out[t.pk] = _delivery(t, records.get((t.dossier_id, t.round)), first_references.get(t.dossier_id))
        except Exception as exc:  # noqa: BLE001 (a missing file, a bad name...: that row's outcome, not the batch's)
            out[t.pk] = exc
    return out


def build_delivery(transmission) -> tuple[dict, list[tuple[str, bytes]]]:
    """One transmission's manifest and PDFs (raises what ``build_deliveries`` maps)."""
    result = build_deliveries([transmission])[transmission.pk]
    if isinstance(result, Exception):
        raise result
    return result


def _read(name) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def _delivery(transmission, record, first_reference):
    """The stored manifest and its files. A supplement stored before the portal knew the first round's
    CMR reference waits for it (``_NotReady``), then carries it: the same on every attempt."""
    if not record or outbox.SENT not in record:
        raise LookupError(f"round {transmission.round} has no certified manifest")
    manifest = record[outbox.SENT]
    if transmission.round > 1 and not manifest.get("supplement_to"):
        supplement_to = transmission.dossier.cmr_reference or first_reference
        if not supplement_to:
            raise _NotReady("the first round has no CMR reference yet")
        manifest = {**manifest, "supplement_to": supplement_to}
    return manifest, [(doc["name"], _read(record[outbox.FILES][doc["name"]])) for doc in manifest["documents"]]


class _NotReady(Exception):
    pass


@dataclass
class _Outcome:
    reference: str = ""
    error: str = ""
    retryable: bool = False
    counts: bool = True  # a "not ready yet" wait does not use up an attempt
    claimed_at: object = None
    again_now: bool = False  # not tried: due again at once
    event: object = None  # a command's confirmation: the stage event the back office recorded


def send_transmissions(first=None, *, client=None, limit=None) -> dict[int, str]:
    """Claim a batch of due transmissions and send each; then record the outcomes together.

    With ``first`` (a retry's task, or a send in eager mode), only if that one is still due, and it
    leads the batch; without, any due ones (the sweep, a kick). Returns ``{pk: SENT | RETRY | FAILED}``;
    ``first`` is absent if another worker holds it, it is not due, or it is done (``SKIPPED``)."""
    return _send_batch(first, client=client, limit=limit)[1]


def _send_batch(first, *, client=None, limit=None, when_full=None) -> tuple[int, dict[int, str]]:
    """``send_transmissions``, also returning how many rows were claimed; ``when_full`` is called
    before sending a batch that took all it could (``drain``'s fan-out)."""
    if first is not None and (first in _in_flight or not Transmission.objects.filter(
            claimable(timezone.now()), pk=first).exists()):
        return 0, {}  # in a batch of this process, or taken or done: no locking transaction
    limit = limit or settings.CMR_SEND_BATCH
    batch = claim_batch(first, limit=limit)
    if not batch:
        return 0, {}
    if when_full is not None and len(batch) >= limit:
        try:
            when_full()
        except Exception:  # noqa: BLE001 (no broker: this batch is sent all the same)
            log.warning("CMR outbox: could not queue a helper kick", exc_info=True)
    pks = {t.pk for t in batch}
    with _in_flight_lock:
        _in_flight.update(pks)
    try:
        outcomes = _send(batch, client)
    finally:  # before the outcomes are recorded: a row put back is queued again, and must not be skipped
        with _in_flight_lock:
            _in_flight.difference_update(pks)
    try:
        return len(batch), _record_outcomes(outcomes)
    except DatabaseError:  # one row must not hold back the others: record them one by one
        log.exception("CMR batch %s: recording the outcomes failed; recording them one by one", sorted(pks))
        results = {}
        for pk, outcome in outcomes.items():
            try:
                results.update(_record_outcomes({pk: outcome}))
            except DatabaseError:
                log.exception("CMR transmission %s: its outcome could not be recorded; the lease will end", pk)
        return len(batch), results


# The rows this process's batches hold right now: a task queued for one of them (a burst of
# certifications queues one task each) returns at once instead of reading the database.
_in_flight: set[int] = set()
_in_flight_lock = threading.Lock()


def _send(batch, client) -> dict[int, _Outcome]:
    client = client or get_client()
    outcomes = {}
    deadline = time.monotonic() + settings.CMR_SEND_BATCH_SECONDS
    built = build_deliveries([t for t in batch if t.kind == Transmission.Kind.DELIVERY])
    for transmission in batch:
        if time.monotonic() > deadline:  # a slow back office: what is left goes back, due now
            outcomes[transmission.pk] = _Outcome(error="not sent: the batch ran out of time", retryable=True,
                                                 counts=False, again_now=True)
            continue
        if transmission.kind == Transmission.Kind.COMMAND:
            outcomes[transmission.pk] = _command(transmission, client)
            continue
        delivery = built[transmission.pk]
        if isinstance(delivery, _NotReady):
            outcomes[transmission.pk] = _Outcome(error=str(delivery), retryable=True, counts=False)
        elif isinstance(delivery, Exception):  # a missing or unreadable file: staff must look
            outcomes[transmission.pk] = _Outcome(error=f"{type(delivery).__name__}: {delivery}")
        else:
            try:
                receipt = client.send_dossier(idempotency_key=transmission.idempotency_key,
                                              manifest=delivery[0], files=delivery[1])
            except CmrError as exc:
                outcomes[transmission.pk] = _Outcome(error=str(exc), retryable=exc.retryable)
            else:
                outcomes[transmission.pk] = _Outcome(reference=receipt.reference)
    for transmission in batch:
        outcomes[transmission.pk].claimed_at = transmission.claimed_at
    return outcomes


def _command(transmission, client) -> _Outcome:
    """Send one stage command; its outcome carries the back office's confirming event."""
    reference = transmission.dossier.cmr_reference
    if not reference:
        return _Outcome(error="the dossier has no CMR reference yet", retryable=True, counts=False)
    try:
        event = client.command_stage(reference, idempotency_key=transmission.idempotency_key,
                                     stage=transmission.stage, details=transmission.details)
    except CmrError as exc:
        return _Outcome(error=str(exc), retryable=exc.retryable)
    return _Outcome(reference=event.event_id, event=event)


def send_transmission(pk, *, client=None) -> str:
    """Claim and send one transmission (and whatever else is due with it): its outcome, or ``SKIPPED``."""
    return send_transmissions(pk, client=client).get(pk, SKIPPED)


def _record_outcomes(outcomes: dict[int, _Outcome]) -> dict[int, str]:
    """Record a batch's deliveries and failures in one transaction; a row already delivered (by a
    replay elsewhere) stays as it is. Deliveries move their dossiers to "transmitted" together."""
    now = timezone.now()
    results, retries, delivered, confirmed = {}, [], [], []
    with transaction.atomic():
        for row in Transmission.objects.select_for_update().filter(pk__in=list(outcomes)).order_by("pk"):
            outcome = outcomes[row.pk]
            if row.status == Transmission.Status.DELIVERED:  # a replay elsewhere got there first
                results[row.pk] = SENT
            elif outcome.event is not None:  # a command the back office applied
                row.status, row.event_id, row.delivered_at = Transmission.Status.DELIVERED, outcome.reference, now
                row.locked_until, row.last_error = None, ""
                row.save(update_fields=["status", "event_id", "delivered_at", "locked_until", "last_error"])
                confirmed.append(outcome.event)
                results[row.pk] = SENT
            elif outcome.reference:
                row.cmr_reference = outcome.reference
                delivered.append(row)
                results[row.pk] = SENT
            elif row.claimed_at != outcome.claimed_at:  # our lease ran out and another worker took it
                results[row.pk] = SKIPPED
            else:
                results[row.pk] = _record_failure(row, outcome, now, retries)
        if delivered:
            _store_deliveries({row.pk: row.cmr_reference for row in delivered}, now)
            firsts = [row.dossier_id for row in delivered if row.round == 1]
            if firsts:  # the dossier takes its first round's reference
                Dossier.objects.filter(pk__in=firsts, cmr_reference="").update(cmr_reference=Subquery(
                    Transmission.objects.filter(dossier_id=OuterRef("pk"), round=1, kind=Transmission.Kind.DELIVERY)
                    .values("cmr_reference")[:1]))
            apply_transition_many([row.dossier_id for row in delivered], "transmit", by=None, data={
                row.dossier_id: {"cmr_reference": row.cmr_reference, "round": row.round} for row in delivered})
    for event in confirmed:  # the portal's state follows the back office's answer (its callback is a duplicate)
        try:
            receive_stage_event(event)
        except StageEventRefused as exc:  # kept as a conflict (cmr.stages), reconciled later
            log.warning("CMR command confirmed by %s but not applied: %s", event.event_id, exc)
    for row in delivered:
        log.info("CMR transmission %s delivered: %s", row.idempotency_key, row.cmr_reference)
    for row, delay in retries:
        log.warning("CMR transmission %s: attempt %s failed (%s); next in %.1f s",
                    row.idempotency_key, row.attempts, row.last_error, delay)
        if not outbox.eager():  # eager mode: `manage.py cmr_outbox` (or staff) retries
            transaction.on_commit(lambda pk=row.pk, delay=delay: outbox.queue(pk, countdown=delay))
    return results


def _store_deliveries(references: dict[int, str], now) -> None:
    """Mark a batch's rows delivered, each with its reference, in one UPDATE ... FROM (VALUES ...).

    PostgreSQL, and SQLite 3.35 or later (as bulk_create's RETURNING needs too). A CASE over the batch
    costs Django more to build than the database to run: ten milliseconds for fifty rows, against one."""
    quote = connection.ops.quote_name
    table, pk = quote(Transmission._meta.db_table), quote(Transmission._meta.pk.column)
    values = ", ".join(["(%s, %s)"] * len(references))
    sql = (f"UPDATE {table} SET status = %s, cmr_reference = v.column2, delivered_at = %s, "  # noqa: S608
           f"locked_until = NULL, last_error = '' FROM (VALUES {values}) AS v WHERE {table}.{pk} = v.column1")
    with connection.cursor() as cursor:  # only quoted names and placeholders are formatted in
        cursor.execute(sql, [Transmission.Status.DELIVERED.value, connection.ops.adapt_datetimefield_value(now),
                             *(x for item in references.items() for x in item)])


def _record_failure(row, outcome, now, retries) -> str:
    if not outcome.again_now:  # a row put back untried keeps the error of its last real attempt
        row.last_error = outcome.error[:4000]
    row.locked_until = None
    if not outcome.counts:
        row.attempts = max(row.attempts - 1, 0)
    if outcome.retryable and row.attempts < settings.CMR_SEND_MAX_ATTEMPTS:
        row.status = Transmission.Status.PENDING
        delay = 0 if outcome.again_now else backoff_seconds(row.attempts)
        row.next_attempt_at = now + timedelta(seconds=delay)
        retries.append((row, delay))
        result = RETRY
    else:
        row.status = Transmission.Status.FAILED
        result = FAILED
        log.error("CMR transmission %s failed after %s attempt(s): %s", row.idempotency_key, row.attempts,
                  outcome.error)
        if row.kind == Transmission.Kind.DELIVERY:  # the collectivity is told (its manager, its preparer)
            transaction.on_commit(lambda pk=row.dossier_id: _tell_failure(pk))
    row.save(update_fields=["last_error", "locked_until", "attempts", "status", "next_attempt_at"])
    return result


def _tell_failure(dossier_id) -> None:
    try:
        notify_delivery_failed.delay(dossier_id)
    except Exception:  # noqa: BLE001 (no broker: the page and the transmissions list still say it)
        log.warning("Could not queue the failure e-mail of dossier %s", dossier_id, exc_info=True)


def retry_transmission(pk, *, by=None) -> Transmission:
    """Staff retry of a failed (or waiting) transmission: attempts reset, sent now, the act audited."""
    with transaction.atomic():
        row, reset = outbox.reset_for_retry(pk)
        if reset:
            record_audit("cmr.transmission_retried", actor=by, target=row.dossier,
                         collectivity=row.dossier.collectivity, data={"key": row.idempotency_key})
    row.refresh_from_db()
    return row
