"""Writes about dossiers: open, add and remove documents, take a workflow action, certify.

Every act runs in one transaction with its timeline event and its audit event. The browser, the
API and the CMR callbacks all call these functions, so they never disagree. The workflow engine
(apply a transition, its guards, what an account may do now) is ``dossiers.transitions``, the
opening rules ``dossiers.rules``, the transmittal slip ``dossiers.slip``; the names callers use are
importable from here too (``__all__``).
"""

import hashlib
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import can
from accounts.reads import record_read
from accounts.selectors import signing_officers, visible_collectivities
from accounts.services import record_audit
from affiliates.selectors import affiliates_for
from cmr.outbox import delivery_record, enqueue_command, enqueue_transmission
from eretraite.files import delete_on_commit, written, written_at_commit
from signatures.metadata import pdf_title
from signatures.services import (
    SigningError,
    check_officer_signature,
    check_signed_issue,
    seal_signed,
    verify_pdf,
)

from . import selectors, timeline
from .checklists import sort_file
from .errors import DossierError, officer_text
from .models import (
    Certification,
    ChecklistItem,
    Document,
    DocumentRequest,
    Dossier,
    DossierKind,
    Event,
    PendingCertification,
)
from .selectors import opening_problems
from .slip import transmittal_slip
from .transitions import (
    apply_transition,
    apply_transition_many,
    check,
    completeness_problems,
    delegation_lock,
    delegation_problems,
    may_act,
    naming_problems,
    on_behalf,
    return_problems,
    second_certifier_problems,
)
from .workflow import EDITABLE, STAGE_TRANSITION, TRANSITIONS, State

__all__ = [
    "DossierError", "add_document", "add_observation", "apply_cmr_stage", "apply_transition",
    "apply_transition_many", "assign_to_me", "certify", "certify_signed", "check_action", "check_removal",
    "command_stage", "completeness_problems",
    "delegate", "may_act", "name_second_certifier", "open_dossier", "pending_certification", "pending_command",
    "return_delegation", "opening_problems", "record_list", "record_view", "remove_document", "request_documents",
    "slip_to_sign", "submit", "take_action", "transmittal_slip",
]


def _scoped(user, dossier_id) -> Dossier:
    """The dossier if ``user`` may see it; 404 otherwise (never 403, never its data)."""
    return get_object_or_404(selectors.dossiers_for(user), pk=dossier_id)


def _require(user, capability):
    if not can(user, capability):
        raise PermissionDenied(_("Your account may not do this. Ask your manager for the capability."))


# --- opening ---------------------------------------------------------------------------------------

def open_dossier(user, *, affiliate_id, kind_code, parent_id=None, on_behalf_of=None) -> Dossier:
    _require(user, "prepare_dossiers")
    affiliate = get_object_or_404(affiliates_for(user).select_related("collectivity"), pk=affiliate_id)
    on_behalf_of = on_behalf(user, affiliate.collectivity)
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
            timeline.write_event(dossier, "opened", by=user, to_state=State.DRAFT, on_behalf_of=on_behalf_of)
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


def _unlocked(user, dossier):
    """Refuse while the dossier is delegated to the provincial office, unless ``user`` is of that office."""
    lock = delegation_lock(user, dossier)
    if lock is not None:
        raise DossierError(lock, code="delegated")


def _locked_dossier(user, dossier_id, problems_of) -> Dossier:
    """The dossier in ``user``'s scope (404 otherwise), locked for this transaction, unless
    ``problems_of(user, dossier)`` says why he may not act on it (refused with those reasons)."""
    dossier = get_object_or_404(selectors.dossiers_for(user).select_for_update(of=("self",)).select_related(
        "collectivity__province", "delegated_to", "second_certifier"), pk=dossier_id)
    problems = problems_of(user, dossier)
    if problems:
        raise DossierError(*problems, code="not_allowed")
    return dossier


def _office(office) -> dict:
    """What the timeline and the audit log keep of the provincial office a dossier is delegated to."""
    return {"office": office.pk, "office_fr": office.name_fr, "office_ar": office.name_ar}


# --- documents -------------------------------------------------------------------------------------

def add_document(user, dossier_id, *, item_code, data: bytes, filename: str, member_id=None, on_behalf_of=None):
    """Verify and keep one signed PDF against a checklist item. A refused file is not kept.

    Returns ``(document or None, report)``: the report says why a file was refused.
    """
    _require(user, "prepare_dossiers")
    dossier = _scoped(user, dossier_id)
    on_behalf_of = on_behalf(user, dossier.collectivity)
    if dossier.state not in EDITABLE:
        raise DossierError(_("Documents can be added only to a draft, or when the CMR asks for them."),
                           code="not_editable")
    _unlocked(user, dossier)
    digest = hashlib.sha256(data).hexdigest()
    _not_received(dossier, digest)  # before the verifier's work: a file already in is never checked again
    if not item_code:  # sent without its line (several files at once, no script): sorted here
        item_code, member_id = _sorted_line(dossier, filename, data)
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
    signature = report.signatures[report.signer_index]
    signed_for = dossier.collectivity if report.signer.get("on_behalf_of_id") else None
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related("delegated_to").get(pk=dossier.pk)
        if dossier.state not in EDITABLE:
            raise DossierError(_("Documents can be added only to a draft, or when the CMR asks for them."),
                               code="not_editable")
        _unlocked(user, dossier)
        _not_received(dossier, digest)  # again under the lock: two sendings of one file at once
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
            timeline.write_event(dossier, "document_replaced" if replaced else "document_added", by=user,
                   on_behalf_of=on_behalf_of,
                   data={"item": item.code, "label_fr": item.label_fr, "label_ar": item.label_ar, "sha256": digest,
                         "file": document.original_name, "signer": document.signer,
                         **({"member": member.pk} if member else {}),
                         **({"signed_on_behalf_of": signed_for.pk} if signed_for else {})})
            record_audit("dossier.document_added", actor=user, target=dossier, collectivity=dossier.collectivity,
                         on_behalf_of=on_behalf_of, data={"item": item.code, "sha256": digest})
    return document, report


def _not_received(dossier, digest):
    """Refuse a file this dossier already has (the same SHA-256, in any sending), naming where it is."""
    earlier = dossier.documents.filter(sha256=digest).select_related("item").first()
    if earlier is not None:
        raise DossierError(_("This very file was already received for this dossier (“%(name)s”, %(item)s): "
                             "it is not added twice.") % {"name": earlier.original_name, "item": earlier.item.label},
                           code="duplicate")


def _sorted_line(dossier, filename, data) -> tuple[str, int | None]:
    """The checklist line (item code, family member) of a file sent without one, from its PDF title or its
    file name (``checklists.sort_file``); refused when neither tells it."""
    lines = selectors.checklist(dossier)
    key = sort_file([pdf_title(data), filename], [(line.key, line.words) for line in lines])
    line = next((line for line in lines if line.key == key), None)
    if line is None:
        raise DossierError(_("Neither its title nor its file name tells which checklist item this file is: "
                             "choose its item, then send it again."), code="unsorted")
    return line.item.code, line.member.pk if line.member else None


def check_removal(user, document):
    """Refuse (raise) unless ``user`` may remove ``document`` now; nothing is written (asked before the
    confirmation page too)."""
    _require(user, "prepare_dossiers")
    dossier = document.dossier
    if dossier.state not in EDITABLE or document.round != dossier.round:
        raise DossierError(_("This document was already certified; it can no longer be removed."),
                           code="not_editable")
    _unlocked(user, dossier)


def remove_document(user, document_id, *, on_behalf_of=None):
    _require(user, "prepare_dossiers")
    with transaction.atomic():
        document = get_object_or_404(Document.objects.select_for_update().select_related("dossier", "item").filter(
            dossier__collectivity__in=visible_collectivities(user)), pk=document_id)
        dossier = document.dossier
        on_behalf_of = on_behalf(user, dossier.collectivity)
        check_removal(user, document)
        delete_on_commit(document.file)  # kept if this transaction rolls back
        document.delete()
        timeline.write_event(dossier, "document_removed", by=user, on_behalf_of=on_behalf_of,
               data={"item": document.item.code, "label_fr": document.item.label_fr,
                     "label_ar": document.item.label_ar, "sha256": document.sha256,
                     "file": document.original_name, **({"member": document.member_id} if document.member_id else {})})
        record_audit("dossier.document_removed", actor=user, target=dossier, collectivity=dossier.collectivity,
                     on_behalf_of=on_behalf_of, data={"sha256": document.sha256})


# --- the workflow ----------------------------------------------------------------------------------

def take_action(user, dossier_id, name, *, reason="", on_behalf_of=None, pension=None) -> Dossier:
    """A workflow action an officer or a CMR agent takes by hand: submit and certify through their own
    services (guards, transmittal slip, outbox), a CMR agent's stage as a command to the back office
    (``command_stage``), any other through ``apply_transition``."""
    if name in ("submit", "submit_supplement"):
        return submit(user, dossier_id, reason=reason, on_behalf_of=on_behalf_of)
    if name == "certify":
        return certify(user, dossier_id, on_behalf_of=on_behalf_of)
    transition = TRANSITIONS.get(name)
    if transition is not None and transition.commanded:
        return command_stage(user, dossier_id, name, reason=reason, pension=pension)
    dossier = _scoped(user, dossier_id)
    return apply_transition(dossier.pk, name, by=user, reason=reason, on_behalf_of=on_behalf_of)


def pending_command(dossier):
    """The stage command sent to the CMR for this dossier and not confirmed yet, if any."""
    return (dossier.transmissions.filter(kind="command", status__in=["pending", "sending"])
            .order_by("-created_at").first())


def command_stage(user, dossier_id, name, *, reason="", item_codes=(), pension=None) -> Dossier:
    """A CMR agent's stage act in the portal: checked as the transition it asks for, then sent to the
    back office as a command (``cmr.outbox.enqueue_command``, in this transaction). The dossier's
    state does not change here: it follows the back office's confirmation, its answer or its callback
    (``apply_cmr_stage``). One command at a time per dossier; the timeline says it was sent."""
    transition = TRANSITIONS[name]
    text = officer_text(reason)
    pension = pension or {}
    with transaction.atomic():
        dossier = (selectors.dossiers_for(user).select_for_update(of=("self",))
                   .select_related("kind", "collectivity", "affiliate").filter(pk=dossier_id).first())
        if dossier is None:
            raise Dossier.DoesNotExist(dossier_id)
        check(dossier, transition, user, text or (State.DOCUMENTS_REQUESTED.value if item_codes else ""))
        _commandable(dossier)
        items = []
        if name == "request_documents":
            known = {i.code: i for i in ChecklistItem.objects.filter(kind_id=dossier.kind_id, code__in=item_codes)}
            items = [{"code": code, "label": known[code].label_fr} for code in item_codes if code in known]
            if not (items or text):
                raise DossierError(_("Say which documents are missing."), code="reason_required")
        if name == "liquidate":
            pension = _pension(pension)
        enqueue_command(dossier, transition.target.value, by=user, items=items, text=text,
                        reason=text if name == "reject" else "", pension=pension if name == "liquidate" else None)
        timeline.write_event(dossier, "stage_sent", by=user, text=text, data={
            "stage": transition.target.value, "items": [i["code"] for i in items]})
        record_audit("dossier.stage_sent", actor=user, target=dossier, collectivity=dossier.collectivity,
                     data={"stage": transition.target.value})
    return dossier


def _commandable(dossier):
    """Refuse a stage command the back office could not take now: the dossier not acknowledged by it yet, or
    another command of it awaiting its confirmation."""
    if not dossier.cmr_reference:
        raise DossierError(_("The CMR has not acknowledged this dossier yet: it has no CMR reference."),
                           code="not_received")
    if pending_command(dossier) is not None:
        raise DossierError(_("A stage sent to the CMR is awaiting its confirmation: wait for it before "
                             "the next one."), code="command_pending")


def check_action(user, dossier_id, name, *, reason="", pension=None, signed_slip=False):
    """Refuse (raise) as ``take_action`` would (``certify_signed`` with ``signed_slip``), writing nothing: asked
    before a confirmation page, so that what is missing is said at once rather than after confirming. The
    signatures are trusted as recorded at upload (the act verifies them again). Returns a liquidation's
    figures as they will be sent (None for another act)."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise DossierError(_("Unknown action."), code="unknown_transition")
    dossier = _scoped(user, dossier_id)
    if signed_slip:
        _token_mode()
        _slip_of(user, dossier)
    elif name == "certify" and settings.CERTIFICATION_SIGNED_BY_TOKEN:
        raise _signature_required()
    check(dossier, transition, user, officer_text(reason), thorough=False)
    if transition.commanded:
        _commandable(dossier)
        if name == "liquidate":
            return _pension(pension or {})
    return None


def submit(user, dossier_id, **kw):
    dossier = _scoped(user, dossier_id)
    name = "submit_supplement" if dossier.state == State.DOCUMENTS_REQUESTED else "submit"
    return apply_transition(dossier.pk, name, by=user, **kw)


def certify(user, dossier_id, *, on_behalf_of=None) -> Dossier:
    """Certify with one click: completeness checked, the transmittal slip sealed, the dossier ready to
    leave. Refused when ``CERTIFICATION_SIGNED_BY_TOKEN`` is on: the certifier then signs the slip with
    his token (``slip_to_sign``, then ``certify_signed``)."""
    if settings.CERTIFICATION_SIGNED_BY_TOKEN:
        _scoped(user, dossier_id)
        raise _signature_required()
    return _certify(user, dossier_id, on_behalf_of=on_behalf_of)


def _signature_required():
    return DossierError(_("Certifying needs your signature: download the transmittal slip, sign it with your "
                          "certificate (your token) and upload the signed slip."), code="signature_required")


def _round_documents(dossier):
    return list(dossier.documents.filter(round=dossier.round).select_related("item", "member"))


def _certify(user, dossier_id, *, on_behalf_of=None, signed=None) -> Dossier:
    """The certification itself. The certification stores the manifest of its delivery, built here once
    (``cmr.outbox.delivery_record``: the documents of the round with the sizes and digests recorded at
    upload, then the slip) and sent as stored by the outbox. The slip is written to storage as the
    transaction's last act (``written_at_commit``): a certification that rolls back leaves no file, one
    that commits its slip. ``signed``: ``(pending certification, slip signed by the certifier and
    sealed)``; otherwise the slip is made and sealed here."""
    _scoped(user, dossier_id)

    def record(dossier):
        now = timezone.now()
        documents = _round_documents(dossier)
        certified_by = user.get_full_name()
        if signed is None:
            slip = transmittal_slip(dossier, documents, certified_by=certified_by, certified_at=now)
        else:
            pending, slip = signed
            if sorted(pending.documents) != sorted(d.sha256 for d in documents):
                raise DossierError(_("The dossier's documents changed after this slip was issued: download the "
                                     "new slip, sign it and upload it."), code="slip_outdated")
            # the very slip he signed, still the round's (not replaced meanwhile): taken once, under the lock
            if not PendingCertification.objects.filter(pk=pending.pk, slip_sha256=pending.slip_sha256).delete()[0]:
                raise DossierError(_("The dossier's documents changed after this slip was issued: download the "
                                     "new slip, sign it and upload it."), code="slip_outdated")
            delete_on_commit(pending.slip)
            for other in PendingCertification.objects.filter(dossier=dossier):
                delete_on_commit(other.slip)
                other.delete()
        certification = Certification(dossier=dossier, round=dossier.round, certified_by=user, certified_at=now,
                                      slip_sha256=hashlib.sha256(slip).hexdigest())
        # An unguessable stored name (the short reference travels in e-mail subjects); the download
        # is still called bordereau-<reference>-<round>.pdf.
        files.add(certification.slip, f"{uuid.uuid4().hex}.pdf", ContentFile(slip))
        certification.manifest = delivery_record(
            dossier, [(d.item.code, d.file.name, d.size, d.sha256) for d in documents],
            slip=(certification.slip.name, len(slip), certification.slip_sha256),
            certified_by=certified_by, certified_at=now.isoformat())
        certification.save()
        DocumentRequest.objects.filter(dossier=dossier, fulfilled_at=None).update(fulfilled_at=now)
        enqueue_transmission(dossier, certification)
        dossier.certified_by, dossier.certified_at = user, now
        return ["certified_by", "certified_at"]

    data = {"signed_by_token": True} if signed is not None else None
    with written_at_commit() as files:
        return apply_transition(dossier_id, "certify", by=user, on_behalf_of=on_behalf_of, after=record, data=data)


# --- certification signed with the certifier's token (CERTIFICATION_SIGNED_BY_TOKEN) ---------------

def _token_mode():
    if not settings.CERTIFICATION_SIGNED_BY_TOKEN:
        raise DossierError(_("Certification is by a click on this platform: there is no slip to sign."),
                           code="not_signed_by_token")


def pending_certification(dossier):
    """The transmittal slip issued for this round of the dossier and not signed yet, if any."""
    return PendingCertification.objects.filter(dossier=dossier, round=dossier.round).first()


def own_pending_certification(user, dossier):
    """The round's slip to sign if ``user`` asked for it: it names him, he alone downloads and signs it."""
    pending = pending_certification(dossier)
    return pending if pending is not None and pending.requested_by_id == getattr(user, "pk", None) else None


def slip_to_sign(user, dossier_id, *, on_behalf_of=None) -> PendingCertification:
    """Step one of a token-signed certification: ``user``, who may certify the dossier now (the certify
    transition's guards, checked without moving it), gets the transmittal slip of this round, unsigned,
    to sign with his token. It is kept as the round's pending certification (a new one replaces it); the
    dossier's state does not change."""
    _token_mode()
    _scoped(user, dossier_id)
    with written_at_commit() as files:
        dossier = (selectors.dossiers_for(user).select_for_update(of=("self",))
                   .select_related("kind", "collectivity", "affiliate").get(pk=dossier_id))
        check(dossier, TRANSITIONS["certify"], user)
        on_behalf_of = on_behalf(user, dossier.collectivity)
        now = timezone.now()
        documents = _round_documents(dossier)
        slip = transmittal_slip(dossier, documents, certified_by=user.get_full_name(), certified_at=now,
                                sealed=False)
        old = pending_certification(dossier)
        if old is not None:
            delete_on_commit(old.slip)
            old.delete()
        pending = PendingCertification(dossier=dossier, round=dossier.round, requested_by=user, requested_at=now,
                                       slip_sha256=hashlib.sha256(slip).hexdigest(),
                                       documents=[d.sha256 for d in documents])
        files.add(pending.slip, f"{uuid.uuid4().hex}.pdf", ContentFile(slip))
        pending.save()
        record_audit("dossier.slip_issued", actor=user, target=dossier, collectivity=dossier.collectivity,
                     on_behalf_of=on_behalf_of, data={"round": dossier.round, "sha256": pending.slip_sha256})
    return pending


def _slip_of(user, dossier) -> PendingCertification:
    """The round's slip to sign that ``user`` asked for; refused if none was issued, or issued to another."""
    pending = pending_certification(dossier)
    if pending is None:
        raise DossierError(_("No transmittal slip was issued to be signed for this sending: ask for the slip "
                             "first."), code="no_slip")
    if pending.requested_by_id != user.pk:  # the slip names who asked for it: he alone signs it
        raise DossierError(_("This slip was issued to %(name)s and names him as the certifier: issue your own "
                             "slip to sign it.") % {"name": pending.requested_by.get_full_name()
                                                    if pending.requested_by else "—"}, code="slip_not_yours")
    return pending


def certify_signed(user, dossier_id, data: bytes, *, on_behalf_of=None):
    """Step two: ``data`` is the slip issued by ``slip_to_sign`` signed by ``user`` with his own
    certificate. Certified only if the signature verifies, is his (his CIN and name), and signs that
    very slip unchanged (``signatures.services.check_signed_issue``); the platform then adds its seal
    over his signature, and that slip is the certification's. Returns ``(dossier or None, report)``: a
    refusal changes nothing and the report says why (a ``DossierError`` for what is not the signature)."""
    _token_mode()
    dossier = _scoped(user, dossier_id)
    pending = _slip_of(user, dossier)
    with pending.slip.open("rb") as handle:
        issued = handle.read()
    officer = {"cin": user.cin or "", "full_name": user.get_full_name() or "", "account_id": user.pk,
               "on_behalf_of_id": None}
    report = check_signed_issue(data, issued, [officer] if officer["cin"] else [])
    if not report.accepted:
        return None, report
    try:
        sealed = seal_signed(bytes(data), reason=f"Transmittal slip {dossier.short_reference}-{pending.round}")
    except SigningError as exc:
        raise DossierError(_("The platform could not add its seal after your signature. Sign the slip with an "
                             "ordinary signature (not a certification that forbids later signatures) and upload "
                             "it again."), code="seal_failed") from exc
    final = verify_pdf(sealed)  # e.g. his tool certified the slip (DocMDP) and so forbade the seal
    if not final.accepted:
        return None, final
    return _certify(user, dossier.pk, on_behalf_of=on_behalf_of, signed=(pending, sealed)), report


def _pension(values) -> dict:
    """A liquidation's figures as a CMR agent typed them: the pension number, the monthly amount in
    dirhams, the date it takes effect; every missing or malformed one said at once."""
    number = str(values.get("number") or "").strip()
    monthly, effective, problems = None, None, []
    if not number or len(number) > 40:
        problems.append(_("Give the pension number (at most 40 characters)."))
    try:
        monthly = Decimal(str(values.get("monthly") or "").replace(",", ".").replace(" ", ""))
        if not monthly.is_finite() or monthly <= 0 or monthly >= Decimal("1e9") or monthly.as_tuple().exponent < -2:
            raise InvalidOperation
    except InvalidOperation:
        problems.append(_("Give the monthly amount in dirhams, e.g. 4512.30."))
    raw = values.get("effective")
    try:
        effective = raw if isinstance(raw, date) else date.fromisoformat(str(raw or ""))
    except ValueError:
        problems.append(_("Give the date the pension takes effect (YYYY-MM-DD)."))
    if problems:
        raise DossierError(*problems, code="liquidation_incomplete")
    return {"number": number, "monthly": monthly.quantize(Decimal("0.01")), "effective": effective}


def request_documents(user, dossier_id, *, item_codes, text) -> Dossier:
    """The CMR asks for documents (checklist items and free text): a command to the back office, which
    reports the request back; the collectivity then adds a supplement."""
    return command_stage(user, dossier_id, "request_documents", reason=text, item_codes=list(item_codes))


def add_observation(user, dossier_id, text, *, on_behalf_of=None) -> Event:
    dossier = _scoped(user, dossier_id)
    on_behalf_of = on_behalf(user, dossier.collectivity)
    text = officer_text(text)
    if not text:
        raise DossierError(_("Write the observation."), code="empty")
    with transaction.atomic():
        event = timeline.write_event(dossier, "observation", by=user, text=text, on_behalf_of=on_behalf_of)
        record_audit("dossier.observation", actor=user, target=dossier, collectivity=dossier.collectivity,
                     on_behalf_of=on_behalf_of)
    return event


def apply_cmr_stage(*, portal_dossier_id, stage, event_id, cmr_reference="", request_items=(), request_text="",
                    reason="", pension=None, by_name=""):
    """A stage the CMR back office reports (a callback, the answer to a command, a reconciliation):
    applied once, through the workflow (None: already applied). What it carries is kept with the
    dossier: a request's items and text (a ``DocumentRequest`` the checklist shows), a liquidation's
    pension number, monthly amount and effective date, a rejection's reason."""
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
    pension = pension or {}
    # the command this report confirms, if a CMR agent sent it from here (answered, or still awaited)
    command = (dossier.transmissions.filter(kind="command", stage=stage)
               .filter(Q(event_id=event_id) | Q(status__in=["pending", "sending"])).order_by("-created_at").first())

    def record(dossier):
        fields = []
        if cmr_reference and not dossier.cmr_reference:
            dossier.cmr_reference = cmr_reference
            fields.append("cmr_reference")
        if name == "request_documents":
            request = DocumentRequest.objects.create(
                dossier=dossier, text=request_text, round=dossier.round,
                requested_by=command.requested_by if command is not None else None)
            request.items.set(ChecklistItem.objects.filter(kind_id=dossier.kind_id, code__in=list(request_items)))
            dossier.round += 1
            fields.append("round")
        elif name == "liquidate":
            dossier.pension_number = str(pension.get("number", ""))[:40]
            dossier.monthly_pension = pension.get("monthly") or None
            dossier.pension_effective_on = pension.get("effective") or None
            fields += ["pension_number", "monthly_pension", "pension_effective_on"]
        elif name == "reject":
            dossier.rejection_reason = reason
            fields.append("rejection_reason")
        return fields

    data = {"items": list(request_items)} if request_items else {}
    if pension:
        data["pension"] = {key: str(value) for key, value in pension.items()}
    if by_name:
        data["by"] = by_name
    try:
        return apply_transition(dossier.pk, name, by=None, reason=request_text or reason or stage,
                                cmr_event_id=event_id, data=data, after=record)
    except IntegrityError:  # the same event applied concurrently
        return None


# --- four eyes: the second certifier ----------------------------------------------------------------

def name_second_certifier(user, dossier_id, certifier_id) -> Dossier:
    """The council names who certifies the dossier beside its officers (a council with a single officer:
    its submitter may not certify what he submitted): another of its officers who may certify, or its
    provincial office's certifier, who then certifies "on behalf of" the commune. ``certifier_id`` None:
    the name is withdrawn. Each refusal says why; the timeline and the audit log say who named whom."""
    with transaction.atomic():
        dossier = _locked_dossier(user, dossier_id, naming_problems)
        certifier = None
        if certifier_id not in (None, ""):
            text = str(certifier_id)
            certifier = (User.objects.select_related("collectivity").filter(pk=int(text)).first()
                         if text.isascii() and text.isdecimal() and len(text) < 12 else None)
            if certifier is None:
                raise DossierError(_("Choose the second certifier among the accounts offered."),
                                   code="unknown_certifier")
            problems = second_certifier_problems(dossier, certifier, by=user)
            if problems:
                raise DossierError(*problems, code="not_eligible")
        if certifier == dossier.second_certifier:
            return dossier
        dossier.second_certifier = certifier
        dossier.save(update_fields=["second_certifier"])
        data = {"account": certifier.pk, "name": certifier.get_full_name(),
                "collectivity": certifier.collectivity_id} if certifier else {}
        action = "second_certifier_named" if certifier else "second_certifier_withdrawn"
        timeline.write_event(dossier, action, by=user, text=certifier.get_full_name() if certifier else "",
                             data=data)
        record_audit(f"dossier.{action}", actor=user, target=dossier, collectivity=dossier.collectivity, data=data)
    return dossier


# --- delegation to the provincial office -----------------------------------------------------------

def delegate(user, dossier_id) -> Dossier:
    """A commune hands a dossier to its provincial office, which checks it, may complete it and returns it
    with its observations (``return_delegation``); meanwhile the dossier is locked for the commune: no
    document added or removed, no step of the workflow (``dossiers.transitions``: ``not_delegated``)."""
    with transaction.atomic():
        dossier = _locked_dossier(user, dossier_id, delegation_problems)
        office = dossier.collectivity.province
        dossier.delegated_to, dossier.delegated_at = office, timezone.now()
        dossier.save(update_fields=["delegated_to", "delegated_at"])
        data = _office(office)
        timeline.write_event(dossier, "delegated", by=user, data=data)
        record_audit("dossier.delegated", actor=user, target=dossier, collectivity=dossier.collectivity, data=data)
    return dossier


def return_delegation(user, dossier_id, observations) -> Dossier:
    """The provincial office holding a delegated dossier hands it back to the commune with its observations
    (required), "on behalf of" the commune like all its acts; the commune has the hand again."""
    text = officer_text(observations)
    with transaction.atomic():
        dossier = _locked_dossier(user, dossier_id, return_problems)
        if not text:
            raise DossierError(_("Write your observations for the commune."), code="reason_required")
        data = _office(dossier.delegated_to)
        dossier.delegated_to, dossier.delegated_at = None, None
        dossier.save(update_fields=["delegated_to", "delegated_at"])
        on_behalf_of = on_behalf(user, dossier.collectivity)
        timeline.write_event(dossier, "delegation_returned", by=user, text=text, data=data, on_behalf_of=on_behalf_of)
        record_audit("dossier.delegation_returned", actor=user, target=dossier, collectivity=dossier.collectivity,
                     on_behalf_of=on_behalf_of, data=data)
    return dossier


def assign_to_me(user, dossier_id) -> Dossier:
    """Take a dossier in hand: it shows as the user's in the portfolio."""
    _require(user, "prepare_dossiers")
    dossier = _scoped(user, dossier_id)
    with transaction.atomic():
        Dossier.objects.filter(pk=dossier.pk).update(assigned_to=user)
        timeline.write_event(dossier, "assigned", by=user)
        record_audit("dossier.assigned", actor=user, target=dossier, collectivity=dossier.collectivity)
    dossier.assigned_to = user
    return dossier
