"""The law 09-08 trail of reads: every time personal data is shown, who saw whose, when, from where.

``record_read`` appends one audit event (``accounts.AuditEvent``) for one answer: a search's results,
an affiliate's page, a dossier's page or list, a document, slip or receipt downloaded, an API read, an
admin page. Each affiliate the answer showed is an ``AuditSubject`` of the event, so that the privacy
officer can list "who saw this person's record" (``reads_of``) as well as filter the whole trail
(``trail``) and export it (``trail_workbook``). The address is the client's (``eretraite.network``).
"""

import io
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from eretraite.network import client_ip

from .models import AuditEvent, AuditSubject
from .permissions import Capability, can
from .services import audit_event

EXPORT_MAX_ROWS = 100_000


def _channel(request) -> str:
    if request is None:
        return "system"
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


def record_read(request, action: str, *, target=None, affiliates=(), collectivity=None, data=None,
                user=None) -> AuditEvent:
    """One read of personal data by ``request.user`` (or ``user``): ``affiliates`` are the ids of the
    persons it showed; ``collectivity`` the one whose data it is (a provincial office reads it "on
    behalf of" that commune)."""
    user = user or request.user
    ids = sorted({int(pk) for pk in affiliates if pk is not None})
    details = {"channel": _channel(request), **(data or {})}
    if len(ids) > 1:
        details["shown"] = len(ids)
    event = audit_event(
        action, actor=user, target=target, collectivity=collectivity, data=details,
        on_behalf_of=collectivity if collectivity is not None and can(user, Capability.ACT_FOR_COMMUNE) else None,
        ip=client_ip(request) if request is not None else None)
    if connection.vendor == "postgresql":
        _insert_with_subjects(event, ids)
        return event
    with transaction.atomic(savepoint=False):  # the event and its persons together, without a savepoint's cost
        event.save()
        AuditSubject.objects.bulk_create([AuditSubject(event=event, affiliate_id=pk) for pk in ids])
    return event


_EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _insert_with_subjects(event: AuditEvent, ids: list[int]) -> None:
    """The event and its persons in one statement (PostgreSQL: an INSERT feeding another, atomic by
    itself): a read, the hot path of every search, costs one round trip to the database, not four
    (begin, event, persons, commit)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _EVENT_FIELDS)
    values = [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in _EVENT_FIELDS]
    sql = (
        f"WITH e AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608 - model names
        f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id), "
        f"s AS (INSERT INTO {quote(AuditSubject._meta.db_table)} (event_id, affiliate_id) "
        f"SELECT e.id, unnest(%s::bigint[]) FROM e) SELECT id FROM e"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, ids])
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


# --- the privacy officer's reading ----------------------------------------------------------------

def trail(*, since=None, until=None, account: str = "", affiliate_id=None, action: str = "",
          reads_only: bool = False) -> QuerySet[AuditEvent]:
    """The audit trail, newest first, filtered: a period (dates, both days included), an account (its
    login or name, in part), a person (an affiliate id: events that showed him), an action (in part)."""
    events = AuditEvent.objects.select_related("actor", "collectivity", "on_behalf_of").order_by("-at", "-id")
    if since:
        events = events.filter(at__gte=_start_of(since))
    if until and until < date.max:
        events = events.filter(at__lt=_start_of(until) + timedelta(days=1))
    if account:
        events = events.filter(Q(actor__username__icontains=account) | Q(actor__full_name__icontains=account)
                               | Q(actor_repr__icontains=account))
    if affiliate_id is not None:
        events = events.filter(subjects__affiliate_id=affiliate_id)
    if action:
        events = events.filter(action__icontains=action)
    if reads_only:
        events = events.filter(action__in=READ_ACTIONS)
    return events


def reads_of(affiliate_id) -> QuerySet[AuditEvent]:
    """Every event that showed this person's data, newest first: who saw his record, and when."""
    return trail(affiliate_id=affiliate_id)


def _start_of(day):
    if isinstance(day, datetime):
        return day
    return timezone.make_aware(datetime.combine(day, time.min))


# The actions that are reads (the rest of the trail is acts: the admin and the acts' own events).
READ_ACTIONS = (
    "affiliate.searched", "affiliate.consulted", "affiliate.listed", "dossier.viewed", "dossier.listed",
    "document.downloaded", "slip.downloaded", "correction.viewed", "correction.listed",
    "correction.document_downloaded", "admin.viewed", "admin.listed", "audit.exported", "audit.viewed",
)


def trail_workbook(events) -> bytes:
    """The events as an XLSX sheet (at most EXPORT_MAX_ROWS rows), in the reader's language."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Audit trail"))
    bold = Font(bold=True)
    header = [_("At"), _("Account"), _("Action"), _("Target"), _("Collectivity"), _("On behalf of"),
              _("Persons shown"), _("Channel"), _("IP address"), _("Details")]
    cells = []
    for title in header:
        cell = openpyxl.cell.WriteOnlyCell(sheet, value=str(title))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for event in events[:EXPORT_MAX_ROWS].prefetch_related("subjects"):
        data = dict(event.data or {})
        actor = (f"{event.actor.full_name or event.actor.username} ({event.actor.username})" if event.actor
                 else event.actor_repr)
        sheet.append([
            timezone.localtime(event.at).replace(tzinfo=None), actor, event.action, event.target_repr,
            str(event.collectivity or ""), str(event.on_behalf_of or ""),
            ", ".join(str(s.affiliate_id) for s in event.subjects.all()), data.pop("channel", ""),
            event.ip or "", _compact(data)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _compact(data: dict) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, default=str)[:2000] if data else ""
