"""Dossier pages: thin, parsing requests and calling dossiers.services and dossiers.selectors."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Capability, can, requires
from accounts.selectors import on_behalf_of
from affiliates.selectors import get_affiliate_light
from eretraite import confirm
from eretraite.files import download
from eretraite.formatting import amount
from eretraite.paging import IdsFirstPaginator
from eretraite.redirects import back_to
from eretraite.uploads import refused_uploads
from signatures.services import MESSAGES, Code

from . import checklists, selectors, services, timeline, transitions
from .errors import DossierError
from .forms import FilterForm, ObservationForm, QueueForm, ReasonForm
from .models import Certification, ChecklistItem, Document, DossierKind
from .workflow import CLOSED, EDITABLE, TRANSITIONS, State, can_reach

PAGE_SIZE = 25


def _behalf(request):
    return on_behalf_of(request.user, request.session)


def _refused(request, exc):
    for reason in exc.reasons:
        messages.error(request, reason)


def _without(params, *keys):
    """A copy of the query ``params`` without ``keys``."""
    params = params.copy()
    for key in keys:
        params.pop(key, None)
    return params


def _shown(request, page, filters, params=None):
    """The page's rows read once, and recorded as shown (law 09-08); the query string without its page."""
    page.object_list = list(page.object_list)
    services.record_list(request, page, filters)
    return _without(request.GET if params is None else params, "page").urlencode()


@requires(Capability.SEE_DOSSIERS, hide=True)
def portfolio(request):
    form = FilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.filtered_dossiers(request.user, **{k: v for k, v in filters.items() if v not in (None, "")})
    page = IdsFirstPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    sendings = selectors.latest_deliveries(page.object_list)
    for dossier in page.object_list:  # the sending's state in plain words, where it is in trouble
        dossier.sending = sendings.get(dossier.pk)
    return render(request, "dossiers/list.html", {
        "page": page, "form": form, "query": _shown(request, page, filters),
        "counts": selectors.counts_by_state(request.user), "states": State.choices,
        "kinds": DossierKind.objects.filter(is_active=True),
    })


@requires(Capability.ACT_ON_STAGES)
def queue(request):
    """The CMR's queue: what reached the CMR, "to process" first, by waiting time; a filter value the
    queue does not offer is named and left out, never an error."""
    places = selectors.regions_and_provinces()
    form = QueueForm(request.GET, states=selectors.REACHED_CMR, places=places,
                     kinds=list(DossierKind.objects.filter(is_active=True)))
    filters = form.filters()
    found = selectors.cmr_queue(request.user, **filters)
    page = IdsFirstPaginator(found.dossiers, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = _without(request.GET, *form.errors)  # a value left out is not carried on
    view = "" if filters.get("state") else filters.get("view", selectors.TO_PROCESS)
    return render(request, "dossiers/queue.html", {
        "page": page, "form": form, "query": _shown(request, page, filters, kept),
        "narrowing": _without(kept, "page", "state", "view").urlencode(),  # what stage and view links keep
        "places": places, "view": view, "state": filters.get("state", ""),
        "views": [(name, label, found.views[name]) for name, label in form.fields["view"].choices],
        "stages": [(s.value, s.label, found.counts.get(s.value, 0)) for s in selectors.REACHED_CMR],
        # what an empty page says: nothing at the CMR at all, nothing under these filters, or an empty tab
        "total": sum(found.counts.values()),
        "narrowed": any(key in filters for key in ("kind", "region", "province", "collectivity", "min_days")),
    })


@login_required
@require_POST
def open_view(request, affiliate_id):
    try:
        dossier = services.open_dossier(request.user, affiliate_id=affiliate_id, kind_code=request.POST.get("kind", ""),
                                        parent_id=request.POST.get("parent") or None, on_behalf_of=_behalf(request))
    except DossierError as exc:
        _refused(request, exc)
        return redirect("affiliates:situation", affiliate_id)
    messages.success(request, _("The dossier is open: add its signed documents."))
    return redirect("dossiers:detail", dossier.pk)


@requires(Capability.SEE_DOSSIERS, hide=True)
def detail(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    services.record_view(request, dossier)
    user = request.user
    is_cmr = can(user, Capability.ACT_ON_STAGES)
    lines = selectors.checklist(dossier)
    next_step = transitions.next_step(user, dossier, lines=lines)
    pending = services.pending_command(dossier)  # a CMR stage sent, not confirmed yet: no other meanwhile
    actions = [t for t in next_step.actions if not (pending and t.commanded)]
    requests = list(dossier.document_requests.prefetch_related("items"))
    may_name = not transitions.naming_problems(user, dossier)  # the second certifier (four eyes)
    editable = (dossier.state in EDITABLE and can(user, Capability.PREPARE_DOSSIERS)
                and transitions.delegation_lock(user, dossier) is None)
    return render(request, "dossiers/detail.html", {
        "dossier": dossier,
        "lines": lines,
        "timeline": timeline.entries(dossier.events.all()),  # newest first, each thing once
        "next_step": next_step,
        "actions": actions,
        "pending_command": pending,
        "delivery": selectors.latest_delivery(dossier),
        "editable": editable,
        # what the page's script needs to sort several files and to send none twice
        "received": selectors.received_digests(dossier) if editable else [],
        "sorting_words": " ".join(sorted(checklists.vocabulary())) if editable else "",
        "stopwords": " ".join(sorted(checklists.STOPWORDS)),
        "may_name": may_name,
        "candidates": selectors.second_certifier_candidates(dossier) if may_name else [],
        "may_delegate": not transitions.delegation_problems(user, dossier),
        "may_return": transitions.holds(user, dossier),
        "certifications": selectors.certifications_for(dossier),
        "signed_by_token": settings.CERTIFICATION_SIGNED_BY_TOKEN,
        "pending_certification": services.own_pending_certification(user, dossier)
        if settings.CERTIFICATION_SIGNED_BY_TOKEN and any(t.name == "certify" for t in actions) else None,
        "certify_consequence": confirm.ACTS["dossier.certify"].consequence,
        "requests": requests,
        "can_request_documents": is_cmr and not pending and can_reach(dossier.state, "request_documents"),
        "items": ChecklistItem.objects.filter(kind_id=dossier.kind_id, is_active=True),
        "reason_form": ReasonForm(), "observation_form": ObservationForm(),
        "closed": dossier.state in CLOSED,
        "can_assign": can(user, Capability.PREPARE_DOSSIERS) and dossier.assigned_to_id != user.pk,
    })


@login_required
@require_POST
def assign_to_me(request, pk):
    services.assign_to_me(request.user, pk)
    return back_to(request, "dossiers:list")


def _wants_json(request):
    return request.headers.get("Accept", "").startswith("application/json") or request.headers.get("HX-Request")


@login_required
@require_POST
def upload(request, pk):
    """One or many signed PDFs against one checklist line, or each sorted to its line by its title or file
    name when no line is given (``item`` empty); each passes the verifier or is not kept."""
    files = request.FILES.getlist("files")
    item = request.POST.get("item", "")
    member = request.POST.get("member") or None
    results = [{"file": name, "accepted": False, "code": str(Code.TOO_LARGE), "message": str(MESSAGES[Code.TOO_LARGE])}
               for name in refused_uploads(request)]
    for f in files:
        try:
            document, report = services.add_document(request.user, pk, item_code=item, data=f.read(),
                                                     filename=f.name, member_id=member,
                                                     on_behalf_of=_behalf(request))
        except DossierError as exc:
            results.append({"file": f.name, "accepted": False, "code": exc.code,
                            "message": " ".join(str(r) for r in exc.reasons)})
            continue
        if document is None:
            results.append({"file": f.name, "accepted": False, "code": str(report.code),
                            "message": str(report.message)})
        else:
            results.append({"file": f.name, "accepted": True, "code": "OK", "signer": document.signer,
                            "line": f"{document.item.code}:{document.member_id}" if document.member_id
                            else document.item.code})
    if not files and not results:
        results.append({"file": "", "accepted": False, "code": "no_file", "message": _("Choose a PDF file.")})
    if _wants_json(request):
        return JsonResponse({"results": results}, status=200 if any(r["accepted"] for r in results) else 400)
    for r in results:
        if r["accepted"]:
            messages.success(request, _("“%(name)s” is accepted.") % {"name": r["file"]})
        else:
            messages.error(request, _("“%(name)s” is refused: %(why)s") % {"name": r["file"], "why": r["message"]})
    return redirect("dossiers:detail", pk)


def _serve(field, filename):
    return download(field, filename)


@requires(Capability.SEE_DOSSIERS, hide=True)
def document_file(request, pk, doc_pk):
    dossier = selectors.get_dossier(request.user, pk)
    document = get_object_or_404(Document, pk=doc_pk, dossier=dossier)
    services.record_view(request, dossier, "document.downloaded", target=document,
                         data={"file": document.original_name})
    return _serve(document.file, document.original_name)


@requires(Capability.SEE_DOSSIERS, hide=True)
def slip(request, pk, round):
    dossier = selectors.get_dossier(request.user, pk)
    certification = get_object_or_404(Certification, dossier=dossier, round=round)
    if not certification.slip:
        raise Http404
    services.record_view(request, dossier, "slip.downloaded", target=certification, data={"round": round})
    return _serve(certification.slip, f"bordereau-{dossier.short_reference}-{round}.pdf")


@login_required
@require_POST
def slip_to_sign(request, pk):
    """Token-signed certification, step one: the slip of this sending, to sign with one's token."""
    dossier = selectors.get_dossier(request.user, pk)
    return _attempt(request, pk, lambda: services.slip_to_sign(request.user, dossier.pk, on_behalf_of=_behalf(request)),
                    _("The transmittal slip is ready: download it, sign it with your certificate (your token) "
                      "without changing it, then upload the signed slip."))


@requires(Capability.SEE_DOSSIERS, hide=True)
def pending_slip(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    pending = services.own_pending_certification(request.user, dossier)
    if pending is None:  # none issued, or issued to another certifier (it names him)
        raise Http404
    services.record_view(request, dossier, "slip.downloaded", target=pending, data={"round": pending.round,
                                                                                   "to_sign": True})
    return _serve(pending.slip, f"bordereau-{dossier.short_reference}-{pending.round}-a-signer.pdf")


@login_required
@require_POST
def certify_signed(request, pk):
    """Token-signed certification, step two: the signed slip uploaded; certified only if it is his signature
    on that very slip."""
    dossier = selectors.get_dossier(request.user, pk)
    if confirm.pending(request, "dossier.certify"):  # the form's own box not ticked: the page asks, and
        return _ask(request, dossier, "certify", file_field=(  # the slip is chosen again (a file is not re-sent)
            "file", _("The signed slip (PDF)")))
    upload = request.FILES.get("file")
    if upload is None or refused_uploads(request):
        messages.error(request, _("Choose the signed slip (a PDF file)."))
        return redirect("dossiers:detail", pk)
    try:
        certified, report = services.certify_signed(request.user, dossier.pk, upload.read(),
                                                    on_behalf_of=_behalf(request))
    except DossierError as exc:
        _refused(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("Your account may not take this action on this dossier."))
    else:
        if certified is None:
            messages.error(request, _("The signed slip is refused: %(why)s") % {"why": report.message})
        else:
            messages.success(request, TRANSITIONS["certify"].done)
    return redirect("dossiers:detail", pk)


def _attempt(request, pk, do, success=None):
    """Run a service act on a dossier: its refusals become messages, its success one; back to the page."""
    try:
        do()
    except DossierError as exc:
        _refused(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("Your account may not take this action on this dossier."))
    else:
        if success:
            messages.success(request, success)
    return redirect("dossiers:detail", pk)


@login_required
@require_POST
def document_remove(request, pk, doc_pk):
    dossier = selectors.get_dossier(request.user, pk)
    document = get_object_or_404(Document.objects.select_related("item", "member", "dossier"), pk=doc_pk,
                                 dossier=dossier)
    if confirm.pending(request, "dossier.remove_document"):
        try:
            services.check_removal(request.user, document)
        except (DossierError, PermissionDenied) as exc:
            return _refusal(request, pk, exc)
        item = f"{document.item.label} — {document.member.full_name}" if document.member else document.item.label
        return _confirmation(request, dossier, "dossier.remove_document", {"document": document.original_name}, [
            (_("Checklist item"), item), (_("File"), document.original_name),
            (_("Signed by"), document.signer or "—")])
    return _attempt(request, pk, lambda: services.remove_document(request.user, doc_pk, on_behalf_of=_behalf(request)),
                    _("“%(name)s” was removed from the dossier.") % {"name": document.original_name})


@login_required
@require_POST
def act(request, pk, name):
    dossier = selectors.get_dossier(request.user, pk)
    if name not in TRANSITIONS:
        raise Http404
    transition = TRANSITIONS[name]
    pension = {key: request.POST.get(f"pension_{key}", "") for key in ("number", "monthly", "effective")}
    if confirm.pending(request, f"dossier.{name}"):
        return _ask(request, dossier, name)
    return _attempt(request, pk, lambda: services.take_action(
        request.user, dossier.pk, name, reason=request.POST.get("reason", ""), on_behalf_of=_behalf(request),
        pension=pension if name == "liquidate" else None), transition.done or None)


def _refusal(request, pk, exc):
    """Back to the dossier's page with what refuses the act (before any confirmation is asked)."""
    if isinstance(exc, DossierError):
        _refused(request, exc)
    else:
        messages.error(request, str(exc) or _("Your account may not take this action on this dossier."))
    return redirect("dossiers:detail", pk)


def _confirmation(request, dossier, act, params, facts, *, lines=(), lines_title="", file_field=None):
    """The confirmation page of an act on ``dossier``: which dossier, whose, then ``facts``; recorded as a
    read of the affiliate's data, as the dossier's page is (law 09-08)."""
    services.record_view(request, dossier, data={"confirmation": act})
    affiliate = dossier.affiliate
    return confirm.ask(request, act, cancel_url=reverse("dossiers:detail", args=[dossier.pk]), params={
        "affiliate": affiliate.full_name, **params}, facts=[
        (_("Dossier"), f"{dossier.kind.label} {dossier.short_reference}"),
        (_("Affiliate"), f"{affiliate.full_name} — {_('affiliation number')} {affiliate.affiliation_number}"),
        (_("Collectivity"), dossier.collectivity.council_label), *facts],
        lines=lines, lines_title=lines_title, file_field=file_field)


def _ask(request, dossier, name, *, file_field=None):
    """The confirmation page of workflow act ``name``, once the act's own checks pass (what refuses it is said
    at once, not after confirming): the state it leaves and the one it reaches or asks the CMR for, what the
    officer typed, and for a certification the documents it sends."""
    transition = TRANSITIONS[name]
    reason = request.POST.get("reason", "")
    try:
        pension = services.check_action(request.user, dossier.pk, name, reason=reason, pension={
            key: request.POST.get(f"pension_{key}", "") for key in ("number", "monthly", "effective")},
            signed_slip=file_field is not None)
    except (DossierError, PermissionDenied) as exc:
        return _refusal(request, dossier.pk, exc)
    after = _("Asked of the CMR") if transition.commanded else _("State after confirmation")
    facts = [(_("State now"), dossier.get_state_display()), (after, transition.target.label)]
    if reason.strip():
        facts.append((_("Reason"), reason.strip()))
    if pension:
        facts += [(_("Pension number"), pension["number"]),
                  (_("Monthly amount"), amount(pension["monthly"])),
                  (_("Effective from"), date_format(pension["effective"], "SHORT_DATE_FORMAT"))]
    lines = []
    if name == "certify":
        lines = [_("%(item)s: “%(file)s”, signed by %(signer)s") % {
            "item": f"{d.item.label} — {d.member.full_name}" if d.member else d.item.label,
            "file": d.original_name, "signer": d.signer or "—"}
            for d in dossier.documents.all() if d.round == dossier.round]
    return _confirmation(request, dossier, f"dossier.{name}", {}, facts, lines=lines,
                         lines_title=_("Documents it sends"), file_field=file_field)


@login_required
@require_POST
def request_documents_view(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    return _attempt(request, pk, lambda: services.request_documents(
        request.user, dossier.pk, item_codes=request.POST.getlist("items"), text=request.POST.get("text", "")),
        TRANSITIONS["request_documents"].done)


@login_required
@require_POST
def observe(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    return _attempt(request, pk, lambda: services.add_observation(
        request.user, dossier.pk, request.POST.get("text", ""), on_behalf_of=_behalf(request)))


@login_required
@require_POST
def name_second_certifier(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    certifier = request.POST.get("certifier") or None
    return _attempt(request, pk, lambda: services.name_second_certifier(request.user, dossier.pk, certifier),
                    _("The second certifier is named.") if certifier else _("The second certifier is withdrawn."))


@login_required
@require_POST
def delegate(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    return _attempt(request, pk, lambda: services.delegate(request.user, dossier.pk),
                    _("The dossier is delegated to the provincial office: it returns it with its observations."))


@login_required
@require_POST
def return_delegation(request, pk):
    dossier = selectors.get_dossier(request.user, pk)
    return _attempt(request, pk, lambda: services.return_delegation(request.user, dossier.pk,
                                                                    request.POST.get("text", "")),
                    _("The dossier is returned to the commune."))


@login_required
def affiliate_block(request, affiliate_id):
    """The situation page's "Dossiers" block: the affiliate's dossiers and the kinds one may open."""
    affiliate = get_affiliate_light(request.user, affiliate_id)
    return render(request, "dossiers/_affiliate_dossiers.html", {
        "affiliate": affiliate,
        "dossiers": list(selectors.dossiers_for(request.user).filter(affiliate=affiliate).order_by("-created_at")),
        "kinds": list(DossierKind.objects.filter(is_active=True))
        if can(request.user, Capability.PREPARE_DOSSIERS) else [],
    })
