"""E-mails about a dossier's stage changes, to its preparer and its collectivity's manager."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User

from . import timeline
from .models import ChecklistItem, Event

NOTIFIED_ACTIONS = {"return", "certify", "transmit", "receive", "review", "request_documents", "liquidate",
                    "pay", "reject"}


def recipients(dossier) -> list[str]:
    people = [dossier.created_by, dossier.submitted_by]
    people += list(User.objects.filter(collectivity=dossier.collectivity, role=User.Role.MANAGER, is_active=True))
    return sorted({p.email for p in people if p is not None and p.is_active and p.email})


def requested_items(event) -> list:
    """The checklist items a document request names (codes in the event's data), in checklist order."""
    codes = (event.data or {}).get("items") if event.action == "request_documents" else None
    if not codes:
        return []
    return list(ChecklistItem.objects.filter(kind_id=event.dossier.kind_id, code__in=codes).order_by("order", "pk"))


def send_stage_change(dossier_id, event_id) -> int:
    event = Event.objects.select_related("dossier__kind", "dossier__affiliate", "dossier__created_by",
                                         "dossier__submitted_by", "dossier__collectivity").filter(
        pk=event_id, dossier_id=dossier_id).first()
    if event is None or event.action not in NOTIFIED_ACTIONS:
        return 0
    dossier = event.dossier
    to = recipients(dossier)
    if not to:
        return 0
    requested = requested_items(event)
    bodies, subjects = [], []
    for lang in ("fr", "ar"):
        with translation.override(lang):
            state = dossier.get_state_display()
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
    message = EmailMessage(" / ".join(subjects), "\n\n----------\n\n".join(bodies), settings.DEFAULT_FROM_EMAIL, to)
    return get_connection().send_messages([message])
