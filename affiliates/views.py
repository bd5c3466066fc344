"""Pages of the affiliate registry. Thin: parse, call a selector or a service, render."""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
from .forms import CorrectionForm, DecisionForm
from .models import CorrectionRequest


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


@requires(Capability.REQUEST_CORRECTIONS)
def correction_new(request, pk):
    affiliate = selectors.get_affiliate_light(request.user, pk)
    if request.method == "GET":
        services.record_consultation(request, affiliate, data={"page": "correction_new"})
    form = CorrectionForm(
        request.POST or None, request.FILES or None, initial={"field": request.GET.get("field", "")}
    )
    if refused_uploads(request):
        form.is_valid()
        form.add_error("document", _("The document is larger than %(mb)d MB.")
                       % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)})
    elif request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            correction = services.request_correction(
                request.user,
                affiliate.pk,
                field=d["field"],
                proposed_value=d["proposed_value"],
                reason=d["reason"],
                document=d["document"],
                ip=client_ip(request),
            )
        except services.CorrectionError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Your correction request was sent to the CMR."))
            return redirect("affiliates:correction", correction.pk)
    return render(
        request, "affiliates/correction_form.html", {"form": form, "affiliate": affiliate}
    )


@login_required
def corrections(request):
    status = request.GET.get("status", "pending")
    if status not in CorrectionRequest.Status.values:
        status = ""
    from django.core.paginator import Paginator

    page = Paginator(selectors.correction_queue(request.user, status=status or None), 25).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    services.record_corrections_listed(request, page.object_list, data={"status": status, "page": page.number})
    return render(
        request,
        "affiliates/corrections.html",
        {
            "page": page,
            "status": status,
            "statuses": CorrectionRequest.Status.choices,
            "query": urlencode({"status": status}),
            "field_labels": {k: v[0] for k, v in services.CORRECTABLE_FIELDS.items()},
            "is_cmr": can(request.user, Capability.ANSWER_CORRECTIONS),
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
            "field_label": services.field_label(item.field),
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
