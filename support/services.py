"""Writes about support requests: one function per use case, each in its transaction with its audit
event; the e-mails they cause are queued when it commits."""

import logging
import re
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Capability, can
from accounts.services import record_audit

from . import selectors, tasks
from .models import PAGE_MAX_LENGTH, SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH, SupportRequest

log = logging.getLogger(__name__)

Status = SupportRequest.Status


class SupportError(Exception):
    """A refused act; ``errors`` maps a field (or "status") to a message the officer can act on."""

    def __init__(self, errors):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


NOT_A_PAGE = _("The page must be a page of this site (an address starting with “/”), not another site's.")
NO_SUCH_DOSSIER = _("This dossier does not exist. To ask about a dossier, use the help link on its page.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


def local_page(value) -> str:
    """The path of a page of this site, without its query string (it may hold a searched name or CIN)
    or fragment: "/dossiers/12/". "" for nothing; ``SupportError`` for another site's address (with a
    scheme or a host, "//host", a backslash) or a path this site does not serve."""
    value = str(value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if (parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//")
            or _CONTROL.search(value)):
        raise SupportError({"page": NOT_A_PAGE})
    path = parts.path
    if len(path) > PAGE_MAX_LENGTH:
        raise SupportError({"page": _("The page's address is too long: at most %(max)d characters.")
                            % {"max": PAGE_MAX_LENGTH}})
    try:
        resolve(path)
    except Resolver404:
        raise SupportError({"page": NOT_A_PAGE}) from None
    return path


def _text(errors, field, value, *, missing, max_length):
    text = (value or "").strip()
    if not text:
        errors[field] = missing
    elif len(text) > max_length:  # refused whole, never cut
        errors[field] = _("The text is too long: at most %(max)d characters (it has %(n)d).") % {
            "max": max_length, "n": len(text)}
    return text


def open_request(user, *, subject, message, page="", dossier_id=None, ip=None) -> SupportRequest:
    """``user`` writes to the support. ``page`` is the path of the page he wrote from; ``dossier_id``
    the dossier it is about, which must be one he sees. Raises ``SupportError`` (a message per field)
    and writes nothing when anything is wrong."""
    if not can(user, Capability.ASK_SUPPORT):
        raise PermissionDenied(_("Your account may not write to the support."))
    errors = {}
    subject = _text(errors, "subject", subject, missing=_("Give your request a subject."),
                    max_length=SUBJECT_MAX_LENGTH)
    message = _text(errors, "message", message, missing=_("Write your question or describe the difficulty."),
                    max_length=TEXT_MAX_LENGTH)
    try:
        page = local_page(page)
    except SupportError as exc:
        errors.update(exc.errors)
        page = ""
    dossier = None
    if dossier_id not in (None, ""):
        dossier = selectors.visible_dossier(user, dossier_id)
        if dossier is None:
            errors["dossier"] = NO_SUCH_DOSSIER
    if errors:
        raise SupportError(errors)
    with transaction.atomic():
        item = SupportRequest.objects.create(
            asked_by=user, collectivity_id=user.collectivity_id, subject=subject, message=message, page=page,
            dossier=dossier)
        record_audit("support.request_opened", actor=user, target=item, collectivity=user.collectivity,
                     data={"page": page, "dossier": dossier.pk if dossier else None}, ip=ip)
        transaction.on_commit(lambda: _queue(tasks.notify_new_request, item.pk))
    return item


def _locked(user, pk) -> SupportRequest:
    """The request, in ``user``'s scope (else 404), locked for the rest of the transaction."""
    found = selectors.get_request(user, pk)
    return SupportRequest.objects.select_for_update().get(pk=found.pk)


def answer_request(user, pk, *, answer, ip=None) -> SupportRequest:
    """The CMR or the DGCT answers an open request; its asker reads the answer on his list and is
    e-mailed. A request already answered or closed is refused."""
    if not can(user, Capability.ANSWER_SUPPORT):
        raise PermissionDenied(_("Only the CMR's and the DGCT's staff answer support requests."))
    errors = {}
    answer = _text(errors, "answer", answer, missing=_("Write the answer."), max_length=TEXT_MAX_LENGTH)
    if errors:
        raise SupportError(errors)
    with transaction.atomic():
        item = _locked(user, pk)
        if item.status == Status.CLOSED:
            raise SupportError({"status": _("This request is closed: it can no longer be answered.")})
        if item.status == Status.ANSWERED:
            raise SupportError({"status": _("This request was already answered.")})
        item.status = Status.ANSWERED
        item.answer = answer
        item.answered_by = user
        item.answered_at = timezone.now()
        item.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        record_audit("support.request_answered", actor=user, target=item, collectivity=item.collectivity,
                     ip=ip)
        transaction.on_commit(lambda: _queue(tasks.notify_answered, item.pk))
    return item


def may_close(user, item: SupportRequest) -> bool:
    """Those who answer close any request; an asker closes his own."""
    return item.status != Status.CLOSED and (
        can(user, Capability.ANSWER_SUPPORT)
        or (can(user, Capability.ASK_SUPPORT) and item.asked_by_id == user.pk))


def close_request(user, pk, *, ip=None) -> SupportRequest:
    """Close a request: nothing more is to be done about it (answered, solved, or written twice)."""
    with transaction.atomic():
        item = _locked(user, pk)
        if item.status == Status.CLOSED:
            raise SupportError({"status": _("This request is already closed.")})
        if not may_close(user, item):
            raise PermissionDenied(_("Only its author or the support may close this request."))
        item.status = Status.CLOSED
        item.closed_at = timezone.now()
        item.save(update_fields=["status", "closed_at"])
        record_audit("support.request_closed", actor=user, target=item, collectivity=item.collectivity,
                     ip=ip)
    return item


def _queue(task, pk):
    """Queue an e-mail; a broker outage never undoes or fails the act it reports."""
    try:
        task.delay(pk)
    except Exception:  # noqa: BLE001
        log.warning("Could not queue the e-mail of support request %s", pk, exc_info=True)
