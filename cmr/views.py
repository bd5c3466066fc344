"""The back office's callbacks: thin — verify (rules), apply once (stages), answer; the failed
transmissions and their retry (sender)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import Capability, requires

from . import rules, selectors, sender, stages
from .models import Transmission

log = logging.getLogger("cmr.callbacks")


@csrf_exempt
@require_POST
def callback(request):
    """``POST /cmr/callbacks/``: one signed stage event of the CMR back office.

    401: missing or bad signature, timestamp outside the window. 400: malformed JSON, missing
    field, unknown stage. 404: unknown dossier. 409: stage not allowed. 200: applied, or already
    applied (a replay). Every refusal is logged and changes nothing.
    """
    secret = settings.CMR_CALLBACK_SECRET
    client = request.META.get("REMOTE_ADDR", "")
    if not secret:
        log.error("CMR callback refused: CMR_CALLBACK_SECRET is not configured")
        return JsonResponse({"status": "refused", "error": "not_configured"}, status=503)
    body = request.body
    try:
        rules.verify_signature(
            secret,
            timestamp=request.headers.get(rules.TIMESTAMP_HEADER),
            signature=request.headers.get(rules.SIGNATURE_HEADER),
            body=body,
            tolerance=settings.CMR_CALLBACK_TOLERANCE_SECONDS,
        )
        event = rules.parse_event(body)
    except rules.CallbackRejected as exc:
        log.warning("CMR callback refused from %s: %s %s", client, exc.code, exc.detail)
        return JsonResponse({"status": "refused", "error": exc.code}, status=exc.status)
    try:
        outcome = stages.receive_stage_event(event)
    except stages.StageEventRefused as exc:
        log.warning("CMR event %s refused (%s): %s -> %s: %s", event.event_id, exc.code,
                    event.cmr_reference, event.stage, exc)
        return JsonResponse({"status": "refused", "error": exc.code, "event_id": event.event_id},
                            status=exc.status)
    if outcome == stages.DUPLICATE:
        log.info("CMR event %s already applied: ignored", event.event_id)
    return JsonResponse({"status": outcome, "event_id": event.event_id})


@requires(Capability.FOLLOW_TRANSMISSIONS, hide=True)
def transmissions(request):
    """``/cmr/transmissions/``: the failed (or other) transmissions, with a retry button."""
    status = request.GET.get("status", Transmission.Status.FAILED)
    if status not in Transmission.Status.values:
        status = Transmission.Status.FAILED
    page = Paginator(selectors.transmissions(status), 50).get_page(request.GET.get("page"))
    return render(request, "cmr/transmissions.html", {
        "page": page, "status": status, "statuses": Transmission.Status.choices, "query": f"status={status}",
        "conflicts": list(selectors.open_conflicts()[:50])})


@requires(Capability.FOLLOW_TRANSMISSIONS, hide=True)
@require_POST
def retry(request, pk):
    transmission = get_object_or_404(Transmission, pk=pk)
    sender.retry_transmission(transmission.pk, by=request.user)
    messages.success(request, _("The transmission was queued again."))
    return redirect(f"{reverse('cmr:transmissions')}?status={request.POST.get('status', 'failed')}")
