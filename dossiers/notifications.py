"""E-mails about a dossier's stage changes, to its preparer and its collectivity's manager."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Event

NOTIFIED_ACTIONS = {"return", "certify", "transmit", "receive", "review", "request_documents", "liquidate",
                    "pay", "reject"}


def recipients(dossier) -> list[str]:
    people = [dossier.created_by, dossier.submitted_by]
    people += list(User.objects.filter(collectivity=dossier.collectivity, role=User.Role.MANAGER, is_active=True))
    return sorted({p.email for p in people if p is not None and p.is_active and p.email})


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
    bodies, subjects = [], []
    for lang in ("fr", "ar"):
        with translation.override(lang):
            state = dossier.get_state_display()
            subjects.append(_("Dossier %(ref)s: %(state)s") % {"ref": dossier.short_reference, "state": state})
            lines = [_("The dossier %(kind)s of %(name)s is now: %(state)s.") % {
                "kind": dossier.kind.label, "name": dossier.affiliate.full_name, "state": state}]
            if event.text:
                lines.append(event.text)
            lines.append(f"{settings.SITE_URL.rstrip('/')}/dossiers/{dossier.pk}/")
            bodies.append("\n\n".join(str(line) for line in lines))
    message = EmailMessage(" / ".join(subjects), "\n\n----------\n\n".join(bodies), settings.DEFAULT_FROM_EMAIL, to)
    return get_connection().send_messages([message])
