"""The support's e-mails, in French and Arabic: to the asker when his request is answered, and to the
support desk's mailbox (``SUPPORT_NOTIFY_EMAILS``, if set) when a request is written. Sent by the worker
(``support.tasks``) after the act's transaction commits; a mail server that refuses loses nothing: the
answer is on the asker's list of requests."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from eretraite.i18n import OFFICIAL

from .models import SupportRequest

log = logging.getLogger(__name__)


def _url(item) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("support:request", args=[item.pk])


def _message(item, to, intro, body) -> EmailMessage:
    """``intro(item)`` and the subject line in each official language, then ``body`` (the officer's own
    text, in the language he wrote it) once, then the link."""
    subjects, intros = [], []
    for language in OFFICIAL:
        with translation.override(language):
            subjects.append(_("e-retraite: support request %(number)s") % {"number": item.pk})
            intros.append(intro(item))
    text = "\n\n".join(["\n\n".join(intros), f"« {item.subject} »", body, _url(item)])
    return EmailMessage(" / ".join(subjects), text, settings.DEFAULT_FROM_EMAIL, to)


def _send(message, pk) -> int:
    try:
        return message.send() or 0
    except Exception:  # noqa: BLE001 (the answer stays on the page; the mail server's failure is logged)
        log.exception("Could not send the e-mail of support request %s to %s", pk, message.to)
        return 0


def send_answered(pk) -> int:
    item = SupportRequest.objects.select_related("asked_by", "answered_by").filter(pk=pk).first()
    if item is None or item.status == SupportRequest.Status.OPEN or not item.answer:
        return 0
    asker = item.asked_by
    if not (asker.is_active and asker.email):
        return 0
    message = _message(item, [asker.email], lambda i: _(
        "Your support request has been answered by %(who)s. Here is the answer; you can also read it on the "
        "platform.") % {"who": i.answered_by.get_full_name() if i.answered_by else _("the support")}, item.answer)
    return _send(message, pk)


def send_new_request(pk) -> int:
    to = [address for address in settings.SUPPORT_NOTIFY_EMAILS if address]
    item = SupportRequest.objects.select_related("asked_by", "collectivity").filter(pk=pk).first()
    if item is None or not to:
        return 0
    message = _message(item, to, lambda i: _("New support request from %(who)s (%(where)s).") % {
        "who": i.asked_by.get_full_name(),
        "where": i.collectivity.council_label if i.collectivity else i.asked_by.get_role_display()},
        item.message)
    return _send(message, pk)
