"""The e-mails that carry a one-time link (activation, password reset): an outbox.

A link e-mail is a row (``LinkEmail``) written in the transaction that needs it: the designation import
that creates 1,500 officers, a manager's new agent, a forgotten password. The worker sends the due
rows (``send_due``), each in its own transaction: the link is made (only its hash is stored), the
message handed to the mail server, and the row marked delivered; if the server refuses or cannot be
reached, nothing of the link remains, the row is marked failed with the reason and retried later with a
growing delay, up to ``LINK_EMAIL_MAX_ATTEMPTS``; then the DGCT (admin) or the account's manager sends
it again (``retry``). So no confirmation waits for the mail server, a dead one loses no link, and an
officer gets one working link per e-mail queued for him, never two live ones.
"""

import contextlib
import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from eretraite.celery import app
from eretraite.i18n import OFFICIAL

from .models import ActivationLink, LinkEmail, User

logger = logging.getLogger(__name__)

Purpose = ActivationLink.Purpose

EMAILS = {
    Purpose.ACTIVATION: ("accounts/email/activation.txt", _("e-retraite: activate your account")),
    Purpose.RESET: ("accounts/email/password_reset.txt", _("e-retraite: choose a new password")),
}


def secret_hash(secret: str) -> str:
    """What is stored of a secret handed out once (a link's token, a trusted browser's cookie, an API
    key): its SHA-256, never the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def link_hours(purpose) -> int:
    if purpose == Purpose.RESET:
        return settings.PASSWORD_RESET_LINK_VALID_HOURS
    return settings.ACTIVATION_LINK_VALID_HOURS


def new_link(user: User, *, by=None, purpose=Purpose.ACTIVATION, now=None) -> tuple[ActivationLink, str]:
    """Save a one-time link for ``user`` and return it with its raw token. Earlier unused links of the
    account stop working: only the newest one is valid. Call it inside a transaction."""
    now = now or timezone.now()
    ActivationLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    link = ActivationLink.objects.create(
        user=user, purpose=purpose, token_hash=secret_hash(token), created_at=now,
        expires_at=now + timedelta(hours=link_hours(purpose)),
        created_by=by if getattr(by, "pk", None) else None,
    )
    return link, token


def bilingual(template: str, subject, context: dict, to: str) -> EmailMessage:
    """One message in both official languages: French first, then Arabic."""
    bodies, subjects = [], []
    for language in OFFICIAL:
        with translation.override(language):
            bodies.append(render_to_string(template, context))
            subjects.append(str(subject))
    return EmailMessage(" / ".join(subjects), "\n\n----------\n\n".join(bodies), settings.DEFAULT_FROM_EMAIL, [to])


def message(user: User, token: str, purpose=Purpose.ACTIVATION) -> EmailMessage:
    url = settings.SITE_URL.rstrip("/") + reverse("activate", args=[token])
    context = {"user": user, "url": url, "hours": link_hours(purpose), "collectivity": user.collectivity}
    template, subject = EMAILS[purpose]
    return bilingual(template, subject, context, user.email)


# --- queueing --------------------------------------------------------------------------------------

def queue(users, *, purpose=Purpose.ACTIVATION, by=None, designation=None) -> list[LinkEmail]:
    """Queue a link e-mail for each of ``users`` in the current transaction; the worker is woken when it
    commits. An account with an e-mail of the same purpose still on its way (waiting, or failed and to
    be retried) gets no second one: that one is sent at once instead. Returns the rows created."""
    users = list(users)
    now = timezone.now()
    pending = LinkEmail.objects.filter(user__in=users, purpose=purpose, status__in=[
        LinkEmail.Status.QUEUED, LinkEmail.Status.FAILED])
    waiting = set(pending.values_list("user_id", flat=True))
    pending.update(status=LinkEmail.Status.QUEUED, next_attempt_at=now)  # one still on its way goes now
    rows = LinkEmail.objects.bulk_create([
        LinkEmail(user=user, purpose=purpose, created_at=now, created_by=by if getattr(by, "pk", None) else None,
                  designation=designation, next_attempt_at=now)
        for user in users if user.pk not in waiting
    ])
    if rows or waiting:
        transaction.on_commit(kick)
    return rows


def retry(emails, *, by=None) -> int:
    """Send failed e-mails again now (a DGCT administrator's or a manager's act). Returns how many."""
    now = timezone.now()
    count = (LinkEmail.objects.filter(pk__in=[e.pk for e in emails], status=LinkEmail.Status.FAILED)
             .update(status=LinkEmail.Status.QUEUED, next_attempt_at=now, attempts=0))
    if count:
        transaction.on_commit(kick)
    return count


def kick() -> None:
    """Have the worker send what is due. A broker outage only delays: the sweep (beat) finds the rows.
    In embedded mode (``make run``: no broker, tasks eager) the sending runs here, after the commit."""
    try:
        if app.conf.task_always_eager:
            send_all_due()
        else:
            app.send_task(SEND_TASK)
    except Exception:  # noqa: BLE001 (the confirmation must not fail; the sweep sends them)
        logger.warning("link e-mails: could not wake the worker; the sweep will send them", exc_info=True)


SEND_TASK = "accounts.send_link_emails"  # accounts/tasks.py


# --- sending (the worker) --------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """1 minute after the first failure, then doubling, at most LINK_EMAIL_RETRY_MAX_SECONDS."""
    seconds = min(settings.LINK_EMAIL_RETRY_MAX_SECONDS,
                  settings.LINK_EMAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=seconds)


def _due(now):
    return LinkEmail.objects.filter(status__in=[LinkEmail.Status.QUEUED, LinkEmail.Status.FAILED],
                                    next_attempt_at__lte=now)


def _failed(email: LinkEmail, error: str, now, *, final=False) -> None:
    email.attempts += 1
    email.status = LinkEmail.Status.FAILED
    email.last_attempt_at = now
    email.last_error = error[:500]
    final = final or email.attempts >= settings.LINK_EMAIL_MAX_ATTEMPTS
    email.next_attempt_at = None if final else now + backoff(email.attempts)
    email.save(update_fields=["attempts", "status", "last_attempt_at", "last_error", "next_attempt_at"])
    if email.next_attempt_at is None:
        logger.error("link e-mail %s to %s: given up after %d attempts (%s)", email.pk, email.user_id,
                     email.attempts, error)


_UNREACHABLE = ("ConnectionRefusedError", "ConnectionResetError", "TimeoutError", "OSError", "gaierror",
                "SMTPConnectError", "SMTPServerDisconnected", "socket")


def failure_reason(error: str):
    """What a stored failure means, for the page (the technical text stays in ``last_error``)."""
    if error.startswith(_UNREACHABLE):
        return _("the mail server cannot be reached")
    if error.startswith("SMTPRecipientsRefused"):
        return _("the mail server refused the address")
    if error.startswith("the account"):
        return _("the account is disabled or has no e-mail address")
    return _("the mail server refused the message")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def send_due(*, now=None, limit=None) -> dict[str, int]:
    """Send the due link e-mails over one connection to the mail server; each row in its transaction,
    locked so that two workers never send the same one. Returns counts of delivered and failed, and
    ``unreachable`` (1 when the server could not be reached at all)."""
    now = now or timezone.now()
    limit = limit or settings.LINK_EMAIL_BATCH
    counts = {"delivered": 0, "failed": 0, "unreachable": 0}
    pks = list(_due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not pks:
        return counts
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 (the server is down: every due e-mail waits for the next try)
        error = _describe(exc)
        for pk in pks:
            with transaction.atomic():
                email = _due(now).select_for_update(skip_locked=True).filter(pk=pk).first()
                if email is not None:
                    _failed(email, error, now)
                    counts["failed"] += 1
        logger.warning("link e-mails: the mail server cannot be reached (%s); %d wait", error, counts["failed"])
        counts["unreachable"] = 1
        return counts
    try:
        for pk in pks:
            with transaction.atomic():
                email = (_due(now).select_for_update(skip_locked=True, of=("self",))
                         .select_related("user", "user__collectivity").filter(pk=pk).first())
                if email is None:  # another worker has it, or it was sent meanwhile
                    continue
                user = email.user
                if not user.is_active or not user.email:
                    _failed(email, "the account is disabled or has no e-mail address", now, final=True)
                    counts["failed"] += 1
                    continue
                try:
                    with transaction.atomic():
                        link, token = new_link(user, by=email.created_by, purpose=email.purpose,
                                               now=timezone.now())
                        sent = connection.send_messages([message(user, token, email.purpose)])
                        if not sent:
                            raise RuntimeError("the mail server accepted no recipient")
                except Exception as exc:  # noqa: BLE001 (refused by the server: the link was rolled back)
                    _failed(email, _describe(exc), now)
                    counts["failed"] += 1
                    continue
                email.status = LinkEmail.Status.DELIVERED
                email.attempts += 1
                email.last_attempt_at = email.delivered_at = timezone.now()
                email.next_attempt_at = None
                email.last_error = ""
                email.link = link
                email.save(update_fields=["status", "attempts", "last_attempt_at", "delivered_at",
                                          "next_attempt_at", "last_error", "link"])
                counts["delivered"] += 1
    finally:
        with contextlib.suppress(Exception):  # a connection the server already dropped
            connection.close()
    return counts


def send_all_due(*, now=None) -> dict[str, int]:
    """``send_due`` until nothing due is left (or the server fails): the worker's task and the sweep."""
    total = {"delivered": 0, "failed": 0, "unreachable": 0}
    while True:
        counts = send_due(now=now)
        for key in total:
            total[key] += counts[key]
        if counts["unreachable"] or counts["delivered"] + counts["failed"] < settings.LINK_EMAIL_BATCH:
            return total
