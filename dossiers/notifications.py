"""E-mails about a dossier's stage changes, to its preparer and its collectivity's manager."""

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User

from . import timeline
from .models import ChecklistItem, Dossier, Event
from .workflow import State

log = logging.getLogger(__name__)

NOTIFIED_ACTIONS = {"return", "certify", "transmit", "receive", "review", "request_documents", "liquidate",
                    "pay", "reject"}


def send_stage_changes(pairs) -> int:
    """One e-mail per stage-change event, in French and Arabic; ``pairs``: (dossier id, event id).

    Several events (the outbox records a batch of deliveries at once) cost the same few queries."""
    wanted = {int(event_id): int(dossier_id) for dossier_id, event_id in pairs}
    events = [e for e in Event.objects.select_related(
        "dossier__kind", "dossier__affiliate", "dossier__created_by", "dossier__submitted_by",
        "dossier__collectivity").filter(pk__in=wanted, action__in=NOTIFIED_ACTIONS).order_by("pk")
        if wanted[e.pk] == e.dossier_id]
    if not events:
        return 0
    managers = defaultdict(list)
    for manager in User.objects.filter(collectivity__in={e.dossier.collectivity_id for e in events},
                                       role=User.Role.MANAGER, is_active=True):
        managers[manager.collectivity_id].append(manager)
    messages = [m for m in (_message(e, managers[e.dossier.collectivity_id]) for e in events) if m is not None]
    sent = 0
    with get_connection() as connection:
        for message in messages:  # one by one: a refused message does not lose the others
            try:
                sent += connection.send_messages([message]) or 0
            except Exception:
                log.exception("Could not send the e-mail %r to %s", message.subject, message.to)
    return sent


def recipients(dossier, managers) -> list[str]:
    people = [dossier.created_by, dossier.submitted_by, *managers]
    return sorted({p.email for p in people if p is not None and p.is_active and p.email})


def requested_items(event) -> list:
    """The checklist items a document request names (codes in the event's data), in checklist order."""
    codes = (event.data or {}).get("items") if event.action == "request_documents" else None
    if not codes:
        return []
    return list(ChecklistItem.objects.filter(kind_id=event.dossier.kind_id, code__in=codes).order_by("order", "pk"))


def _message(event, managers):
    dossier = event.dossier
    to = recipients(dossier, managers)
    if not to:
        return None
    requested = requested_items(event)
    bodies, subjects = [], []
    for lang in ("fr", "ar"):
        with translation.override(lang):
            state = State(dossier.state).label  # not get_state_display(): it hashes every choice each time
            subjects.append(_("Dossier %(ref)s: %(state)s") % {"ref": dossier.short_reference, "state": state})
            lines = [_("The dossier %(kind)s of %(name)s is now: %(state)s.") % {
                "kind": dossier.kind.label, "name": dossier.affiliate.full_name, "state": state}]
            if requested:
                lines.append("\n".join([_("The CMR asks for these documents:")]
                                       + [f"- {item.label}" for item in requested]))
            detail = timeline.event_detail(event, lang)
            if detail:
                lines.append(detail)
            lines.append(f"{settings.SITE_URL.rstrip('/')}/dossiers/{dossier.pk}/")
            bodies.append("\n\n".join(str(line) for line in lines))
    return EmailMessage(" / ".join(subjects), "\n\n----------\n\n".join(bodies), settings.DEFAULT_FROM_EMAIL, to)


def send_delivery_failed(dossier_id) -> int:
    """Tell the dossier's preparer, submitter and the collectivity's manager that the sending to the CMR
    failed after its retries, in French and Arabic; the CMR's and the DGCT's staff see it on their
    transmissions page and send it again."""
    dossier = (Dossier.objects.select_related("kind", "affiliate", "created_by", "submitted_by", "collectivity")
               .filter(pk=dossier_id).first())
    if dossier is None:
        return 0
    managers = list(User.objects.filter(collectivity_id=dossier.collectivity_id, role=User.Role.MANAGER,
                                        is_active=True))
    to = recipients(dossier, managers)
    if not to:
        return 0
    bodies, subjects = [], []
    for lang in ("fr", "ar"):
        with translation.override(lang):
            subjects.append(_("Dossier %(ref)s: not delivered to the CMR") % {"ref": dossier.short_reference})
            bodies.append("\n\n".join([
                _("The certified dossier %(kind)s of %(name)s could not be delivered to the CMR after several "
                  "attempts.") % {"kind": dossier.kind.label, "name": dossier.affiliate.full_name},
                _("Nothing is lost: the CMR and the DGCT have been told and will send it again. You have nothing "
                  "to do; the dossier page shows when it is delivered."),
                f"{settings.SITE_URL.rstrip('/')}/dossiers/{dossier.pk}/",
            ]))
    message = EmailMessage(" / ".join(subjects), "\n\n----------\n\n".join(bodies), settings.DEFAULT_FROM_EMAIL, to)
    try:
        return message.send() or 0
    except Exception:
        log.exception("Could not send the delivery failure e-mail of dossier %s", dossier_id)
        return 0
