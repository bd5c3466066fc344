"""Stage events in: applying the back office's stage events to the dossiers, once.

The view (``cmr.views.callback``) has already checked the signature, the timestamp and the payload
(``cmr.rules``); ``receive_stage_event`` records the event id and applies the stage in one
transaction, so a replayed event changes nothing and a refused one leaves no trace but a log line.
``reconcile_stages`` asks the back office for what the callbacks missed and applies it the same way.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from dossiers.models import Dossier
from dossiers.services import DossierError, apply_cmr_stage

from . import rules
from .client import CmrError, get_client
from .models import CmrEvent, StageConflict
from .selectors import dossiers_to_reconcile

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
    try:
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
            StageConflict.objects.filter(event_id=event.event_id, resolved_at=None).update(
                resolved_at=timezone.now(), resolution="applied")
    except StageNotAllowed as exc:
        _record_conflict(event, exc)
        raise
    log.info("CMR event %s applied: %s -> %s", event.event_id, event.cmr_reference, event.stage)
    return APPLIED


def _record_conflict(event: rules.StageEvent, exc: Exception) -> None:
    """Keep a report the portal refused, with both sides' stages: the back office retries it, the
    reconciliation settles it, CMR staff and the DGCT see it meanwhile."""
    dossier = (Dossier.objects.filter(reference=_uuid(event.portal_dossier_id)).first()
               or Dossier.objects.filter(cmr_reference=event.cmr_reference).exclude(cmr_reference="").first())
    if dossier is None:
        return
    now = timezone.now()
    updated = StageConflict.objects.filter(event_id=event.event_id).update(
        last_seen_at=now, times=F("times") + 1, portal_state=dossier.state, reason=str(exc)[:2000],
        resolved_at=None, resolution="")
    if not updated:
        try:
            with transaction.atomic():
                StageConflict.objects.create(
                    dossier=dossier, event_id=event.event_id, cmr_reference=event.cmr_reference,
                    cmr_stage=event.stage, cmr_previous_stage=event.previous_stage or "",
                    portal_state=dossier.state, details=event.details, reason=str(exc)[:2000],
                    first_seen_at=now, last_seen_at=now)
        except IntegrityError:  # the same report refused twice at once
            pass
    log.warning("CMR event %s kept as a conflict: CMR %s, portal %s (%s)", event.event_id, event.stage,
                dossier.state, exc)


def _amount(value):
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _date(value):
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def apply_stage_event(event: rules.StageEvent) -> None:
    """Apply one CMR stage to its dossier through the dossier workflow (timeline, notifications).

    Called inside ``receive_stage_event``'s transaction, after the event id was recorded. Raises
    ``UnknownDossier`` (404; the back office retries) or ``StageNotAllowed`` (409), writing nothing.
    The event names the portal's dossier by its reference (the UUID the outbox sends).
    """
    details = event.details or {}
    items = [item.get("code") for item in details.get(rules.REQUESTED_DOCUMENTS) or []
             if isinstance(item, dict) and isinstance(item.get("code"), str)]
    pension = None
    if event.stage == rules.LIQUIDATED and details.get(rules.PENSION_NUMBER):
        pension = {"number": str(details[rules.PENSION_NUMBER]), "monthly": _amount(details.get(rules.MONTHLY_AMOUNT)),
                   "effective": _date(details.get(rules.EFFECTIVE_DATE))}
    try:
        with transaction.atomic():
            apply_cmr_stage(portal_dossier_id=event.portal_dossier_id, stage=event.stage,
                            event_id=event.event_id, cmr_reference=event.cmr_reference, request_items=items,
                            request_text=str(details.get(rules.REQUEST_TEXT) or "")[:4000],
                            reason=str(details.get(rules.REASON) or "")[:4000], pension=pension,
                            by_name=str(details.get(rules.ACTED_BY) or "")[:200])
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
    stage = data.get("stage")
    if stage:  # both sides at the same stage now: what disagreed is settled
        StageConflict.objects.filter(cmr_reference=data.get("reference") or reference, resolved_at=None,
                                     dossier__state=stage).update(
            resolved_at=timezone.now(), resolution=f"reconciled: both at {stage}")
    return outcomes


def reconcile(*, quiet_seconds=None, limit=200) -> dict:
    """The beat's pass: reconcile the stages of delivered, unclosed dossiers that have been quiet."""
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
