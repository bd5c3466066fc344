"""Pages of the affiliate registry. Thin: parse, call a selector or a service, render."""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Capability, can, requires
from accounts.reads import record_read
from eretraite.files import download
from eretraite.network import client_ip
from eretraite.uploads import refused_uploads

from . import rules, selectors, services
from .forms import NEW, CorrectionForm, DecisionForm, Target, TargetForm, parse_target
from .models import SERVICE_PERIOD, CorrectionRequest


@login_required
def search(request):
    raw = request.GET.get("q", "")
    result = (
        selectors.search_affiliates(request.user, raw, page=request.GET.get("page") or 1)
        if "q" in request.GET
        else None
    )
    if result is not None and result.page is not None:
        services.record_search(request, raw, result)
    return render(
        request,
        "affiliates/search.html",
        {
            "q": raw,
            "result": result,
            "query": urlencode({"q": raw}),
        },
    )


@login_required
def situation(request, pk):
    affiliate = selectors.get_affiliate(request.user, pk)
    try:
        on, on_error = rules.assessment_date(request.GET.get("on")), None
    except rules.InvalidAssessmentDate as refusal:
        on, on_error = None, str(refusal)
    invalidity = request.GET.get("invalidity") == "1"
    services.record_consultation(request, affiliate)
    return render(
        request,
        "affiliates/situation.html",
        {
            "affiliate": affiliate,
            "s": selectors.situation(affiliate, on=on, invalidity=invalidity),
            "invalidity": invalidity,
            "on_error": on_error,
            "assessable_from": rules.ASSESSABLE_FROM,
            "assessable_until": rules.ASSESSABLE_UNTIL,
            "periods": list(affiliate.periods.all()),
            "salaries": list(affiliate.salaries.all()),
            "family": list(affiliate.family.all()),
            "corrections": list(affiliate.corrections.all()),
            "changes": list(affiliate.changes.all()),
            "field_labels": {k: v[0] for k, v in services.CORRECTABLE_FIELDS.items()},
            "can_request": can(request.user, Capability.REQUEST_CORRECTIONS),
        },
    )


def _correction_target(affiliate, raw, periods, salaries):
    """The target the form names (a field, a record of this affiliate, a missing one), None when it
    names none; 404 for a record that is not this affiliate's."""
    parsed = parse_target(raw)
    if parsed is None:
        return None
    field, record = parsed
    if record is None or record == NEW:
        return Target(field)
    rows = periods if field == SERVICE_PERIOD else salaries
    found = next((row for row in rows if str(row.pk) == record), None)
    if found is None:
        raise Http404
    return Target(field, found)


@requires(Capability.REQUEST_CORRECTIONS)
def correction_new(request, pk):
    affiliate = selectors.get_affiliate_light(request.user, pk)
    periods, salaries = list(affiliate.periods.order_by("start")), list(affiliate.salaries.order_by("start"))
    posted = request.method == "POST"
    source = request.POST if posted else request.GET
    raw = source.get("target") or source.get("field") or ""
    target = _correction_target(affiliate, raw, periods, salaries)
    chooser = TargetForm(affiliate=affiliate, periods=periods, salaries=salaries,
                         initial={"target": target.value if target else ""})
    if not posted:
        services.record_consultation(request, affiliate, data={"page": "correction_new"})
    context = {"affiliate": affiliate, "chooser": chooser, "target": target, "form": None}
    if target is None:
        if posted:
            chooser.choice_error = _("Choose what to correct.")
        return render(request, "affiliates/correction_form.html", context)
    token = request.POST.get("kept", "") if posted else ""
    kept = services.kept_document(request.user, affiliate, token) if token else None
    form = CorrectionForm(request.POST if posted else None, request.FILES if posted else None,
                          affiliate=affiliate, target=target, kept_document=kept)
    context["form"] = form
    if refused_uploads(request):
        form.is_valid()
        form.add_error("document", _("The document is larger than %(mb)d MB.")
                       % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)})
    elif posted and form.is_valid():
        d = form.cleaned_data
        try:
            correction = services.request_correction(
                request.user,
                affiliate.pk,
                field=target.field,
                record=target.record_id,
                proposed_value=form.proposed(),
                reason=d["reason"],
                document=d["document"],
                kept=token or None,
                ip=client_ip(request),
            )
        except services.CorrectionError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.value_names or field in ("reason", "document") else None,
                               message)
        else:
            messages.success(request, _("Your correction request was sent to the CMR."))
            return redirect("affiliates:correction", correction.pk)
    if posted:
        _keep_the_document(request, affiliate, form, token, kept)
    return render(request, "affiliates/correction_form.html", context)


def _keep_the_document(request, affiliate, form, token, kept):
    """After a refused attempt: keep the PDF just sent (or the one kept before) for the next one,
    unless the PDF itself was refused; the form carries its token in a hidden field."""
    upload = request.FILES.get("document")
    if "document" in form.errors:
        services.discard_kept_document(request.user, token)
        form.keep("", None)
    elif upload is not None:
        try:
            new_token = services.keep_document(request.user, affiliate, upload, replacing=token or None)
        except services.CorrectionError as exc:
            form.add_error("document", exc.errors.get("document"))
            form.keep("", None)
        else:
            form.keep(new_token, services.kept_document(request.user, affiliate, new_token))
    else:
        form.keep(token if kept is not None else "", kept)


@login_required
def corrections(request):
    """The correction requests the account may see: the CMR's queue (pending first by default), or a
    collectivity's own requests with their status and the CMR's answer (all by default); of one
    affiliate with ``?affiliate=``. A fixed number of queries whatever the page holds."""
    is_cmr = can(request.user, Capability.ANSWER_CORRECTIONS)
    status = request.GET.get("status", "pending" if is_cmr else "all")
    if status not in CorrectionRequest.Status.values:
        status = ""
    affiliate = None
    raw = request.GET.get("affiliate", "")
    if raw:
        if not raw.isdigit() or len(raw) > 9:
            raise Http404
        affiliate = selectors.get_affiliate_light(request.user, int(raw))
    page = Paginator(
        selectors.correction_queue(request.user, status=status or None, affiliate=affiliate), 25
    ).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    services.record_corrections_listed(request, page.object_list, data={
        "status": status, "page": page.number, **({"affiliate": affiliate.pk} if affiliate else {})})
    return render(
        request,
        "affiliates/corrections.html",
        {
            "page": page,
            "status": status,
            "statuses": CorrectionRequest.Status.choices,
            "affiliate": affiliate,
            "query": urlencode({"status": status or "all", **({"affiliate": affiliate.pk} if affiliate else {})}),
            "filter_query": urlencode({"affiliate": affiliate.pk}) if affiliate else "",
            "is_cmr": is_cmr,
        },
    )


@login_required
def correction(request, pk):
    item = selectors.get_correction(request.user, pk)
    services.record_correction_viewed(request, item)
    is_cmr = can(request.user, Capability.ANSWER_CORRECTIONS)
    return render(
        request,
        "affiliates/correction.html",
        {
            "c": item,
            "field_label": item.field_label,
            "changes": list(item.changes.all()),
            "decision_form": DecisionForm() if is_cmr and item.status == "pending" else None,
        },
    )


@login_required
@require_POST
def correction_decide(request, pk):
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or to refuse."))
        return redirect("affiliates:correction", pk)
    try:
        if form.cleaned_data["decision"] == "accept":
            services.accept_correction(
                request.user, pk, note=form.cleaned_data["reason"], ip=client_ip(request)
            )
            messages.success(request, _("The correction was accepted and the registry updated."))
        else:
            services.refuse_correction(
                request.user, pk, reason=form.cleaned_data["reason"], ip=client_ip(request)
            )
            messages.success(
                request, _("The request was refused; the officer will see your reason.")
            )
    except services.CorrectionError as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    return redirect("affiliates:correction", pk)


@login_required
def correction_document(request, pk):
    item = selectors.get_correction(request.user, pk)
    record_read(request, "correction.document_downloaded", target=item, affiliates=[item.affiliate_id],
                collectivity=item.affiliate.collectivity, data={"file": item.document_name})
    return download(item.document, item.document_name)
