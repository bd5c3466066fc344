"""Writes about dossiers: open, add and remove documents, apply a workflow transition, certify.

Every act runs in one transaction with its timeline event and its audit event. The browser, the
API and the CMR callbacks all call these functions, so they never disagree.
"""

import hashlib
import logging
import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent
from accounts.permissions import Capability, can
from accounts.reads import record_read
from accounts.selectors import signing_officers, visible_collectivities
from accounts.services import audit_event, record_audit
from affiliates import rules as law
from affiliates.models import Affiliate
from affiliates.selectors import affiliates_for, counting_stop
from eretraite.files import delete_on_commit, written
from signatures.services import (
    IssuedDocument,
    Table,
    check_officer_signature,
    moment,
    seal_document,
)

from . import selectors
from .models import Certification, ChecklistItem, Document, DocumentRequest, Dossier, DossierKind, Event
from .workflow import EDITABLE, STAGE_TRANSITION, TEXT_MAX_LENGTH, TRANSITIONS, Actor, State

log = logging.getLogger(__name__)


class DossierError(Exception):
    """A refused act, with the reasons an officer can act on (translatable messages)."""

    def __init__(self, *reasons, code="refused"):
        super().__init__("; ".join(str(r) for r in reasons))
        self.reasons = list(reasons)
        self.code = code


def _written(text) -> str:
    """An officer's text, stripped; refused (never cut) when longer than TEXT_MAX_LENGTH."""
    text = (text or "").strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise DossierError(_("The text is too long: at most %(max)d characters (it has %(n)d).")
                           % {"max": TEXT_MAX_LENGTH, "n": len(text)}, code="too_long")
    return text


# The CMR has received a dossier once it is in one of these states: a supplement may follow.
RECEIVED_BY_CMR = {State.RECEIVED, State.UNDER_REVIEW, State.DOCUMENTS_REQUESTED, State.LIQUIDATED,
                   State.IN_PAYMENT}
RETIREMENT_KINDS = {"age_limit", "early", "invalidity"}


def _event(dossier, action, **kw):
    event = _new_event(dossier, action, **kw)
    event.save()
    return event


def _new_event(dossier, action, *, by=None, text="", data=None, from_state="", to_state="", on_behalf_of=None,
               cmr_event_id=""):
    return Event(
        dossier=dossier, action=action, actor=by if getattr(by, "pk", None) else None,
        actor_repr=str(by) if by is not None else str(_("the CMR")), text=text, data=data or {},
        from_state=from_state, to_state=to_state, on_behalf_of=on_behalf_of, cmr_event_id=cmr_event_id,
    )


def _scoped(user, dossier_id) -> Dossier:
    """The dossier if ``user`` may see it; 404 otherwise (never 403, never its data)."""
    return get_object_or_404(selectors.dossiers_for(user), pk=dossier_id)


def _on_behalf(user, collectivity):
    """What an act says it was done "on behalf of": the dossier's commune when a provincial office acts,
    whatever the office's session says (the ``on_behalf_of`` the services still accept is not used)."""
    return collectivity if user is not None and can(user, Capability.ACT_FOR_COMMUNE) else None


def _require(user, capability):
    if not can(user, capability):
        raise PermissionDenied(_("Your account may not do this. Ask your manager for the capability."))


# --- opening ---------------------------------------------------------------------------------------

def _periods(affiliate):
    return [p.as_rule() for p in affiliate.periods.all()]


def opening_problems(affiliate: Affiliate, kind: DossierKind, *, parent: Dossier | None = None,
                     on: date | None = None) -> list:
    """Why this kind of dossier cannot be opened for this affiliate now (empty: it can)."""
    on = on or timezone.localdate()
    problems = []
    status = affiliate.status
    if not kind.is_active:
        problems.append(_("This kind of dossier is not offered any more."))
    if kind.code in RETIREMENT_KINDS and status != Affiliate.Status.ACTIVE:
        problems.append(_("A retirement dossier is for an affiliate in activity; this one is %(status)s.")
                        % {"status": affiliate.get_status_display()})
    stop = counting_stop(affiliate, on=on)  # as on the situation page: nothing after the age limit or the end
    if kind.code == "early":
        verdict = law.early_retirement_eligibility(affiliate.sex, _periods(affiliate), on=on, stop=stop)
        if not verdict.eligible:
            problems.append(_("Article 4 is not met: the affiliate does not have the effective service "
                              "early retirement requires. See the eligibility on his situation page."))
    if kind.code == "death" and status != Affiliate.Status.DECEASED:
        problems.append(_("A death dossier is for a deceased affiliate. Correct his status in the registry "
                          "first (correction request to the CMR)."))
    if kind.code == "refund" and not law.refund_possible(affiliate.sex, _periods(affiliate), on=on, stop=stop):
        problems.append(_("A refund is for an affiliate who leaves without the minimum service; this one has a "
                          "right to a pension."))
    if kind.code == "supplementary":
        if parent is None:
            problems.append(_("A supplementary dossier is attached to an earlier dossier: choose it."))
        elif parent.affiliate_id != affiliate.pk or parent.state not in RECEIVED_BY_CMR:
            problems.append(_("A supplementary dossier needs an earlier dossier of the same affiliate that the "
                              "CMR has received."))
    elif parent is not None:
        problems.append(_("Only a supplementary dossier is attached to an earlier one."))
    if Dossier.objects.filter(affiliate=affiliate, kind=kind).exclude(
            state__in=[State.IN_PAYMENT, State.REJECTED, State.CANCELLED]).exists():
        problems.append(_("This affiliate already has an open dossier of this kind."))
    return problems


def open_dossier(user, *, affiliate_id, kind_code, parent_id=None, on_behalf_of=None) -> Dossier:
    _require(user, "prepare_dossiers")
    affiliate = get_object_or_404(affiliates_for(user).select_related("collectivity"), pk=affiliate_id)
    on_behalf_of = _on_behalf(user, affiliate.collectivity)
    kind = DossierKind.objects.filter(code=kind_code).first()
    if kind is None:
        raise DossierError(_("Unknown kind of dossier."), code="unknown_kind")
    parent = selectors.dossiers_for(user).filter(pk=parent_id).first() if parent_id else None
    if parent_id and parent is None:
        raise DossierError(_("The earlier dossier was not found."), code="unknown_parent")
    problems = opening_problems(affiliate, kind, parent=parent)
    if problems:
        raise DossierError(*problems, code="not_allowed")
    try:
        with transaction.atomic():
            dossier = Dossier.objects.create(kind=kind, affiliate=affiliate, collectivity=affiliate.collectivity,
                                             parent=parent, created_by=user, assigned_to=user)
            _event(dossier, "opened", by=user, to_state=State.DRAFT, on_behalf_of=on_behalf_of)
            record_audit("dossier.opened", actor=user, target=dossier, collectivity=dossier.collectivity,
                         on_behalf_of=on_behalf_of, data={"kind": kind.code, "affiliate": affiliate.pk})
    except IntegrityError:  # a concurrent opening won the race
        raise DossierError(_("This affiliate already has an open dossier of this kind."),
                           code="not_allowed") from None
    return dossier


# --- reads (law 09-08) -----------------------------------------------------------------------------

def record_view(request, dossier, action="dossier.viewed", *, target=None, data=None):
    """A dossier's page, or one of its files, was shown: whose data, to whom, from where."""
    return record_read(request, action, target=target or dossier, affiliates=[dossier.affiliate_id],
                       collectivity=dossier.collectivity, data={"dossier": dossier.pk, **(data or {})})


def record_list(request, page, filters=None):
    """A page of dossiers was listed: each person shown on it."""
    return record_read(request, "dossier.listed", affiliates=[d.affiliate_id for d in page.object_list],
                       data={"page": page.number, "results": page.paginator.count,
                             "filters": {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")}})


# --- documents -------------------------------------------------------------------------------------

def add_document(user, dossier_id, *, item_code, data: bytes, filename: str, member_id=None, on_behalf_of=None):
    """Verify and keep one signed PDF against a checklist item. A refused file is not kept.

    Returns ``(document or None, report)``: the report says why a file was refused.
    """
    _require(user, "prepare_dossiers")
    dossier = _scoped(user, dossier_id)
    on_behalf_of = _on_behalf(user, dossier.collectivity)
    if dossier.state not in EDITABLE:
        raise DossierError(_("Documents can be added only to a draft, or when the CMR asks for them."),
                           code="not_editable")
    item = ChecklistItem.objects.filter(kind_id=dossier.kind_id, code=item_code, is_active=True).first()
    if item is None:
        raise DossierError(_("This document is not on the dossier's checklist."), code="unknown_item")
    member = None
    if member_id:
        member = dossier.affiliate.family.filter(pk=member_id).first()
        if member is None:
            raise DossierError(_("This family member is not in the affiliate's record."), code="unknown_member")
    report = check_officer_signature(data, signing_officers(dossier.collectivity, uploader=user))
    if not report.accepted:
        return None, report
    digest = hashlib.sha256(data).hexdigest()
    signature = report.signatures[report.signer_index]
    signed_for = dossier.collectivity if report.signer.get("on_behalf_of_id") else None
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if dossier.state not in EDITABLE:
            raise DossierError(_("Documents can be added only to a draft, or when the CMR asks for them."),
                               code="not_editable")
        if dossier.documents.filter(sha256=digest).exists():
            raise DossierError(_("This very file is already in the dossier."), code="duplicate")
        # Replacing: in a draft, a new file for an item takes the place of the earlier one.
        replaced = list(dossier.documents.filter(item=item, member=member, round=dossier.round))
        for old in replaced:
            delete_on_commit(old.file)  # kept if this transaction rolls back
            old.delete()
        document = Document(
            dossier=dossier, item=item, member=member, original_name=filename[:255], size=len(data),
            sha256=digest, round=dossier.round, uploaded_by=user, verdict=str(report.code),
            report=report.as_dict(), signer=signature.signer[:255], signer_serial_number=signature.signer_cin,
            signed_at=signature.signing_time, pades_level=signature.pades_level or "",
            signer_account_id=report.signer.get("account_id"), signed_on_behalf_of=signed_for,
        )
        with written(document.file, f"{digest}.pdf", ContentFile(data)):  # removed again if this fails
            document.save()
            _event(dossier, "document_replaced" if replaced else "document_added", by=user,
                   on_behalf_of=on_behalf_of,
                   data={"item": item.code, "label_fr": item.label_fr, "label_ar": item.label_ar, "sha256": digest,
                         "file": document.original_name, "signer": document.signer,
                         **({"signed_on_behalf_of": signed_for.pk} if signed_for else {})})
            record_audit("dossier.document_added", actor=user, target=dossier, collectivity=dossier.collectivity,
                         on_behalf_of=on_behalf_of, data={"item": item.code, "sha256": digest})
    return document, report


def remove_document(user, document_id, *, on_behalf_of=None):
    _require(user, "prepare_dossiers")
    with transaction.atomic():
        document = get_object_or_404(Document.objects.select_for_update().select_related("dossier", "item").filter(
            dossier__collectivity__in=visible_collectivities(user)), pk=document_id)
        dossier = document.dossier
        on_behalf_of = _on_behalf(user, dossier.collectivity)
        if dossier.state not in EDITABLE or document.round != dossier.round:
            raise DossierError(_("This document was already certified; it can no longer be removed."),
                               code="not_editable")
        delete_on_commit(document.file)  # kept if this transaction rolls back
        document.delete()
        _event(dossier, "document_removed", by=user, on_behalf_of=on_behalf_of,
               data={"item": document.item.code, "label_fr": document.item.label_fr,
                     "label_ar": document.item.label_ar, "sha256": document.sha256})
        record_audit("dossier.document_removed", actor=user, target=dossier, collectivity=dossier.collectivity,
                     on_behalf_of=on_behalf_of, data={"sha256": document.sha256})


# --- the workflow ----------------------------------------------------------------------------------

def may_act(user, dossier, transition) -> bool:
    """Whether ``user`` (None: the platform or the CMR back office) may take ``transition``."""
    actor = transition.actor
    if actor == Actor.SYSTEM:
        return user is None
    if actor == Actor.CMR:
        return user is None or can(user, Capability.ACT_ON_STAGES)
    if user is None or not visible_collectivities(user).filter(pk=dossier.collectivity_id).exists():
        return False
    if actor == Actor.PREPARER:
        return can(user, Capability.PREPARE_DOSSIERS)
    if actor == Actor.CERTIFIER:
        return can(user, Capability.CERTIFY_DOSSIERS)
    return False


def completeness_problems(dossier, *, by) -> list:
    """Why the dossier cannot be certified: every reason, so the officer can fix them all at once."""
    problems = []
    for line in selectors.missing_items(dossier):
        label = f"{line.item.label} — {line.member.full_name}" if line.member else line.item.label
        problems.append(_("Missing document: %(item)s.") % {"item": label})
    officers = {}
    for document in dossier.documents.filter(round=dossier.round).select_related("item", "uploaded_by"):
        data = document.file.open("rb").read()
        document.file.close()
        if hashlib.sha256(data).hexdigest() != document.sha256:
            problems.append(_("The stored file of “%(name)s” does not match its digest: upload it again.")
                            % {"name": document.original_name})
            continue
        # Again: a certificate may have been revoked, or the officer's account disabled, since the upload.
        uploader = document.uploaded_by
        if uploader.pk not in officers:
            officers[uploader.pk] = signing_officers(dossier.collectivity, uploader=uploader)
        report = check_officer_signature(data, officers[uploader.pk])
        if not report.accepted:
            problems.append(_("“%(name)s”: %(message)s") % {"name": document.original_name,
                                                            "message": report.message})
    if settings.DOSSIER_CERTIFIER_MUST_DIFFER and by is not None and dossier.submitted_by_id == by.pk:
        problems.append(_("The officer who submitted the dossier may not certify it too: another officer with "
                          "certifying authority must do it."))
    return problems


def _guard(dossier, name, by) -> list:
    if name == "has_documents":
        return [] if dossier.documents.exists() else [_("Add the dossier's documents before submitting it.")]
    if name == "requested_documents_present":
        request = dossier.document_requests.filter(round=dossier.round - 1, fulfilled_at=None).first() \
            or dossier.document_requests.filter(fulfilled_at=None).first()
        if request is None:
            return []
        present = set(dossier.documents.filter(round=dossier.round).values_list("item_id", flat=True))
        missing = [item.label for item in request.items.all() if item.pk not in present]
        if not present:
            return [_("Add the requested documents before submitting the supplement.")]
        return [_("Missing document: %(item)s.") % {"item": label} for label in missing]
    if name == "complete":
        return completeness_problems(dossier, by=by)
    return []  # signatures_accepted and certifier_is_not_preparer are part of "complete"


def apply_transition(dossier_id, name, *, by, reason="", data=None, on_behalf_of=None, cmr_event_id="",
                     after=None):
    """Take transition ``name`` on a dossier, or refuse with reasons; the timeline event is in the same
    transaction. ``by`` is the user, or None for the platform or the CMR back office."""
    transition = _transition(name)
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related(  # not the kind, not the
            "kind", "collectivity", "affiliate").get(pk=dossier_id)  # collectivity: others lock them too
        if dossier.state not in transition.sources:
            raise DossierError(_("This action is not possible: the dossier is %(state)s.")
                               % {"state": dossier.get_state_display()}, code="wrong_state")
        _check(dossier, transition, by, reason)
        if by is not None:
            on_behalf_of = _on_behalf(by, dossier.collectivity)
        fields = _move(dossier, transition, by)
        if after is not None:
            fields += after(dossier) or []
        dossier.save(update_fields=fields)
        _record([dossier], transition, by=by, reason=reason, data={dossier.pk: data}, on_behalf_of=on_behalf_of,
                cmr_event_id=cmr_event_id)
    return dossier


def apply_transition_many(dossier_ids, name, *, by, data=None) -> list[Dossier]:
    """``apply_transition`` on many dossiers at once, for the platform's batch work (the outbox's
    "transmit"): the same checks for each, one UPDATE, the timeline and audit rows written together and
    one notification task. Dossiers no longer in a source state are left as they are (another path
    moved them on); any other refusal raises and changes nothing. ``data``: dossier id -> event data.
    Returns the dossiers moved."""
    transition = _transition(name)
    with transaction.atomic():
        dossiers = [d for d in Dossier.objects.select_for_update(of=("self",))
                    .select_related("kind", "collectivity", "affiliate")
                    .filter(pk__in=list(dossier_ids)).order_by("pk") if d.state in transition.sources]
        if not dossiers:
            return []
        now = timezone.now()
        for dossier in dossiers:
            _check(dossier, transition, by, "")
            fields = _move(dossier, transition, by, now=now)
        Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).update(  # the same values for all
            **{field: getattr(dossiers[0], field) for field in fields})
        _record(dossiers, transition, by=by, reason="", data=data or {})
    return dossiers


def _transition(name):
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise DossierError(_("Unknown action."), code="unknown_transition")
    return transition


def _check(dossier, transition, by, reason):
    """Refuse (raise) unless ``by`` may take this transition on this dossier now."""
    if not may_act(by, dossier, transition):
        raise PermissionDenied(_("Your account may not take this action on this dossier."))
    if transition.needs_reason and not (reason or "").strip():
        raise DossierError(_("Give the reason."), code="reason_required")
    if by is not None:
        _written(reason)
    problems = [p for guard in transition.guards for p in _guard(dossier, guard, by)]
    if problems:
        raise DossierError(*problems, code="incomplete")


def _move(dossier, transition, by, *, now=None) -> list[str]:
    """Set the new state on the instance (not saved); the fields to save."""
    dossier.previous_state = dossier.state
    dossier.state = transition.target
    dossier.state_changed_at = now or timezone.now()
    fields = ["state", "state_changed_at"]
    if transition.name in ("submit", "submit_supplement"):
        dossier.submitted_by = by
        fields.append("submitted_by")
    return fields


def _record(dossiers, transition, *, by, reason, data, on_behalf_of=None, cmr_event_id=""):
    """The timeline and audit rows of a transition just taken, and the notification queued on commit."""
    events = Event.objects.bulk_create([
        _new_event(d, transition.name, by=by, text=reason.strip(), data=data.get(d.pk), from_state=d.previous_state,
                   to_state=d.state, on_behalf_of=on_behalf_of, cmr_event_id=cmr_event_id) for d in dossiers])
    AuditEvent.objects.bulk_create([
        audit_event(f"dossier.{transition.name}", actor=by, target=d, collectivity=d.collectivity,
                    on_behalf_of=on_behalf_of, data={"from": d.previous_state, "to": d.state}) for d in dossiers])
    pairs = [(d.pk, e.pk) for d, e in zip(dossiers, events, strict=True)]
    transaction.on_commit(lambda: _notify(pairs))


def _notify(pairs):
    """Queue the e-mails; a broker outage never undoes or fails the act they report."""
    from .tasks import notify_stage_changes

    try:
        notify_stage_changes.delay(pairs)
    except Exception:
        log.warning("Could not queue the notification of events %s", pairs, exc_info=True)


def take_action(user, dossier_id, name, *, reason="", on_behalf_of=None) -> Dossier:
    """A workflow action an officer or a CMR agent takes by hand: submit and certify through their own
    services (guards, transmittal slip, outbox), any other through ``apply_transition``."""
    if name in ("submit", "submit_supplement"):
        return submit(user, dossier_id, reason=reason, on_behalf_of=on_behalf_of)
    if name == "certify":
        return certify(user, dossier_id, on_behalf_of=on_behalf_of)
    dossier = _scoped(user, dossier_id)
    return apply_transition(dossier.pk, name, by=user, reason=reason, on_behalf_of=on_behalf_of)


def submit(user, dossier_id, **kw):
    dossier = _scoped(user, dossier_id)
    name = "submit_supplement" if dossier.state == State.DOCUMENTS_REQUESTED else "submit"
    return apply_transition(dossier.pk, name, by=user, **kw)


def certify(user, dossier_id, *, on_behalf_of=None) -> Dossier:
    """Certify: completeness checked, the transmittal slip sealed, the dossier ready to leave."""
    _scoped(user, dossier_id)

    def record(dossier):
        now = timezone.now()
        documents = list(dossier.documents.filter(round=dossier.round).select_related("item", "member"))
        manifest = {
            "dossier": str(dossier.reference), "kind": dossier.kind.code, "round": dossier.round,
            "affiliate": {"affiliation_number": dossier.affiliate.affiliation_number, "ppr": dossier.affiliate.ppr,
                          "cin": dossier.affiliate.cin},
            "collectivity": dossier.collectivity.code,
            "documents": [{"item": d.item.code, "file": d.original_name, "sha256": d.sha256, "size": d.size,
                           "signer": d.signer} for d in documents],
            "certified_by": user.get_full_name(), "certified_at": now.isoformat(),
        }
        certification = Certification.objects.create(dossier=dossier, round=dossier.round, certified_by=user,
                                                     certified_at=now, manifest=manifest)
        slip = transmittal_slip(dossier, documents, certified_by=manifest["certified_by"], certified_at=now)
        # An unguessable stored name (the short reference travels in e-mail subjects); the download
        # is still called bordereau-<reference>-<round>.pdf.
        certification.slip.save(f"{uuid.uuid4().hex}.pdf", ContentFile(slip), save=False)
        written_slips.append(certification.slip)
        certification.slip_sha256 = hashlib.sha256(slip).hexdigest()
        certification.save(update_fields=["slip", "slip_sha256"])
        DocumentRequest.objects.filter(dossier=dossier, fulfilled_at=None).update(fulfilled_at=now)
        from cmr.services import enqueue_transmission; enqueue_transmission(dossier, certification)  # noqa: E702, I001
        dossier.certified_by, dossier.certified_at = user, now
        return ["certified_by", "certified_at"]

    written_slips = []
    try:
        return apply_transition(dossier_id, "certify", by=user, on_behalf_of=on_behalf_of, after=record)
    except BaseException:
        for slip_file in written_slips:  # the certification rolled back: its slip is no one's
            slip_file.storage.delete(slip_file.name)
        raise


def _in_both_languages(text) -> tuple[str, str]:
    """A message in French and in Arabic: the slip is bilingual, whatever the reader's language."""
    with translation.override("fr"):
        french = capfirst(str(text))
    with translation.override("ar"):
        return french, str(text)


def transmittal_slip(dossier, documents, *, certified_by: str, certified_at) -> bytes:
    """The bordereau d'envoi (جدول الإرسال), in French and Arabic: the dossier, the affiliate, the
    collectivity, who certified and when, and each document with its SHA-256 digest; sealed by the platform."""
    affiliate, collectivity, kind = dossier.affiliate, dossier.collectivity, dossier.kind

    def row(label, value):
        french, arabic = _in_both_languages(label)
        return french, str(value), arabic

    def item(document):
        french, arabic = document.item.label_fr, document.item.label_ar
        if document.member:
            return f"{french} — {document.member.full_name_fr}", f"{arabic} — {document.member.full_name_ar}"
        return french, arabic

    title, title_ar = _in_both_languages(_("Transmittal slip"))
    item_fr, item_ar = _in_both_languages(_("item"))
    file_name = " / ".join(_in_both_languages(_("file name")))
    certified_at = timezone.localtime(certified_at)
    return seal_document(IssuedDocument(
        title=title, title_ar=title_ar,
        reference=f"{dossier.short_reference}-{dossier.round}",
        issued_at=certified_at,
        fields=[
            row(_("Dossier reference"), dossier.reference),
            row(_("Dossier kind"), kind.label_fr), ("", kind.label_ar, ""),
            row(_("affiliate"), affiliate.full_name_fr), ("", affiliate.full_name_ar, ""),
            row(_("affiliation number"), affiliate.affiliation_number),
            row(_("payroll number (PPR)"), affiliate.ppr),
            row(_("collectivity"), f"{collectivity.name_fr} ({collectivity.code})"), ("", collectivity.name_ar, ""),
            row(_("certified by"), certified_by),
            row(_("certified at"), moment(certified_at)),
            row(_("Sending number"), dossier.round),
            row(_("Number of documents"), len(documents)),
        ],
        table=Table(
            headings=["N°", item_fr, item_ar, f"{file_name}\nSHA-256"],
            rows=[[str(n), *item(d), f"{d.original_name}\n{d.sha256}"] for n, d in enumerate(documents, 1)],
            widths=(20, 100, 100, 291), small=(3,),
        ),
        paragraphs=list(_in_both_languages(_(
            "The documents listed above, identified by their SHA-256 fingerprints, make up this sending of the "
            "dossier, certified by the collectivity. This slip is sealed by the e-retraite platform: any change "
            "to it breaks the seal."))),
    ))


def request_documents(user, dossier_id, *, item_codes, text) -> Dossier:
    """The CMR asks for documents (checklist items and free text); the collectivity adds a supplement."""
    def record(dossier):
        request = DocumentRequest.objects.create(dossier=dossier, text=text.strip(), requested_by=user,
                                                 round=dossier.round)
        request.items.set(ChecklistItem.objects.filter(kind_id=dossier.kind_id, code__in=item_codes))
        dossier.round += 1
        return ["round"]

    text = _written(text)
    if not (item_codes or text):
        raise DossierError(_("Say which documents are missing."), code="reason_required")
    # with items and no words, the reason is the bare state code, which the timeline and e-mails leave out
    return apply_transition(dossier_id, "request_documents", by=user, reason=(text or "").strip()
                            or State.DOCUMENTS_REQUESTED.value, after=record,
                            data={"items": list(item_codes)})


def add_observation(user, dossier_id, text, *, on_behalf_of=None) -> Event:
    dossier = _scoped(user, dossier_id)
    on_behalf_of = _on_behalf(user, dossier.collectivity)
    text = _written(text)
    if not text:
        raise DossierError(_("Write the observation."), code="empty")
    with transaction.atomic():
        event = _event(dossier, "observation", by=user, text=text, on_behalf_of=on_behalf_of)
        record_audit("dossier.observation", actor=user, target=dossier, collectivity=dossier.collectivity,
                     on_behalf_of=on_behalf_of)
    return event


def apply_cmr_stage(*, portal_dossier_id, stage, event_id, cmr_reference="", details=None):
    """A stage the CMR back office reports: applied once, through the workflow (None: already applied)."""
    if Event.objects.filter(cmr_event_id=event_id).exists():
        return None
    name = STAGE_TRANSITION.get(stage)
    if name is None:
        raise DossierError(_("Unknown stage."), code="unknown_stage")
    try:
        reference = uuid.UUID(str(portal_dossier_id))
    except ValueError:
        raise Dossier.DoesNotExist(portal_dossier_id) from None
    dossier = Dossier.objects.filter(reference=reference).first()
    if dossier is None:
        raise Dossier.DoesNotExist(portal_dossier_id)
    details = details or {}

    def record(dossier):
        fields = []
        if cmr_reference and not dossier.cmr_reference:
            dossier.cmr_reference = cmr_reference
            fields.append("cmr_reference")
        if name == "request_documents":
            request = DocumentRequest.objects.create(dossier=dossier, text=details.get("text", ""),
                                                     round=dossier.round)
            request.items.set(ChecklistItem.objects.filter(kind_id=dossier.kind_id,
                                                           code__in=details.get("items", [])))
            dossier.round += 1
            fields.append("round")
        return fields

    try:
        return apply_transition(dossier.pk, name, by=None, reason=details.get("text", "") or stage,
                                cmr_event_id=event_id, data=details, after=record)
    except IntegrityError:  # the same event applied concurrently
        return None


def assign_to_me(user, dossier_id) -> Dossier:
    """Take a dossier in hand: it shows as the user's in the portfolio."""
    _require(user, "prepare_dossiers")
    dossier = _scoped(user, dossier_id)
    with transaction.atomic():
        Dossier.objects.filter(pk=dossier.pk).update(assigned_to=user)
        _event(dossier, "assigned", by=user)
        record_audit("dossier.assigned", actor=user, target=dossier, collectivity=dossier.collectivity)
    dossier.assigned_to = user
    return dossier
