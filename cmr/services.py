"""Writes of the CMR gateway: applying the back office's stage events once.

The view (``cmr.views.callback``) has already checked the signature, the timestamp and the payload
(``cmr.rules``); ``receive_stage_event`` records the event id and applies the stage in one
transaction, so a replayed event changes nothing and a refused one leaves no trace but a log line.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from . import rules
from .models import CmrEvent

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
