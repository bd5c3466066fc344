"""Help and support pages: thin, parsing the request and calling support.services and selectors."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import Capability, can, requires
from eretraite.network import client_ip

from . import selectors, services
from .forms import AnswerForm, RequestForm
from .guides import GUIDES
from .models import SupportRequest

PAGE_SIZE = 25


def _came_from(request) -> str:
    """The page the visitor came from: ``?from=`` or, without it, the Referer; only a path of this site
    (never another site's address, never the help pages themselves), "" otherwise."""
    value = request.GET.get("from")
    if value is None:
        value = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        return ""
    parts = urlsplit(value)
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    try:
        path = services.local_page(parts.path)
    except services.SupportError:
        return ""
    return "" if path.startswith(reverse("support:help")) else path


def _contacts():
    return {"phone": settings.SUPPORT_PHONE, "email": settings.SUPPORT_EMAIL,
            "phone_href": "".join(ch for ch in settings.SUPPORT_PHONE if ch.isdigit() or ch == "+"),
            "dgct_email": settings.SUPPORT_DGCT_EMAIL, "signature_portal": settings.SUPPORT_SIGNATURE_PORTAL}


def _step(text, contacts):
    """A guide's step, the addresses in it kept left to right inside Arabic text."""
    values = {
        "dgct_email": format_html('<bdi dir="ltr"><a href="mailto:{0}">{0}</a></bdi>', contacts["dgct_email"]),
        "signature_portal": format_html('<bdi dir="ltr"><a href="{0}" rel="noopener">{1}</a></bdi>',
                                        contacts["signature_portal"],
                                        urlsplit(contacts["signature_portal"]).netloc
                                        or contacts["signature_portal"]),
    }
    return mark_safe(conditional_escape(str(text)) % values)  # noqa: S308 (escaped above, values by format_html)


def help_page(request):
    """Open to everyone, logged in or not: the CMR's support line, a guide per role, the way to write."""
    contacts = _contacts()
    mine = getattr(request.user, "role", None)
    guides = [{"role": role, "title": role.label, "mine": role == mine,
               "steps": [_step(step, contacts) for step in steps]} for role, steps in GUIDES]
    guides.sort(key=lambda guide: not guide["mine"])  # the reader's own role first
    came_from = _came_from(request)
    ask = reverse("support:ask") + (f"?{urlencode({'from': came_from})}" if came_from else "")
    return render(request, "support/help.html", {
        "contacts": contacts, "guides": guides, "ask_url": ask,
        "may_ask": can(request.user, Capability.ASK_SUPPORT),
        "may_answer": can(request.user, Capability.ANSWER_SUPPORT),
        "login_url": reverse("login") + "?" + urlencode({"next": request.get_full_path()}),
    })


@requires(Capability.ASK_SUPPORT)
def ask(request):
    if request.method == "POST":
        form = RequestForm(request.POST)
        form.is_valid()
        data = form.cleaned_data
        try:
            item = services.open_request(request.user, subject=data.get("subject"), message=data.get("message"),
                                         page=data.get("page"), dossier_id=data.get("dossier"),
                                         ip=client_ip(request))
        except services.SupportError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
            # A refused page or dossier is not sent again (the officer cannot edit these hidden fields):
            # sending the form once more sends the question without it.
            form.data = form.data.copy()
            for field in {"page", "dossier"} & set(exc.errors):
                form.data[field] = ""
        else:
            messages.success(request, _("Your request was sent to the support. Its answer will appear on this "
                                        "page, and you will be told by e-mail."))
            return redirect("support:request", item.pk)
        dossier = selectors.visible_dossier(request.user, data.get("dossier")) if data.get("dossier") else None
    else:
        dossier = selectors.visible_dossier(request.user, request.GET.get("dossier"))
        form = RequestForm(initial={"page": _came_from(request), "dossier": dossier.pk if dossier else ""})
    page = form["page"].value() or ""
    return render(request, "support/ask.html", {"form": form, "dossier": dossier, "page": page,
                                                "contacts": _contacts()})


@requires(Capability.ASK_SUPPORT, Capability.ANSWER_SUPPORT)
def request_list(request):
    status = request.GET.get("status")
    if status is None:
        status = selectors.default_status(request.user)
    if status not in SupportRequest.Status.values:
        status = ""
    page = Paginator(selectors.request_list(request.user, status=status or None), PAGE_SIZE).get_page(
        request.GET.get("page"))
    page.object_list = list(page.object_list)
    answerer = can(request.user, Capability.ANSWER_SUPPORT)
    return render(request, "support/list.html", {
        "page": page, "status": status, "statuses": SupportRequest.Status.choices,
        "query": urlencode({"status": status or "all"}), "answerer": answerer,
        "may_ask": can(request.user, Capability.ASK_SUPPORT),
    })


@requires(Capability.ASK_SUPPORT, Capability.ANSWER_SUPPORT)
def request_detail(request, pk):
    item = selectors.get_request(request.user, pk)
    answerer = can(request.user, Capability.ANSWER_SUPPORT)
    return render(request, "support/detail.html", {
        "item": item,
        "answer_form": AnswerForm() if answerer and item.status == SupportRequest.Status.OPEN else None,
        "may_close": services.may_close(request.user, item),
        "dossier_visible": item.dossier_id is not None
        and selectors.visible_dossier(request.user, item.dossier_id) is not None,
    })


def _refused(request, item_pk, exc):
    for message in exc.errors.values():
        messages.error(request, message)
    return redirect("support:request", item_pk)


@requires(Capability.ANSWER_SUPPORT)
@require_POST
def answer(request, pk):
    form = AnswerForm(request.POST)
    form.is_valid()
    try:
        services.answer_request(request.user, pk, answer=form.cleaned_data.get("answer"), ip=client_ip(request))
    except services.SupportError as exc:
        if "answer" in exc.errors:  # keep what was typed, with its error, on the request's page
            item = selectors.get_request(request.user, pk)
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
            return render(request, "support/detail.html", {
                "item": item, "answer_form": form, "may_close": services.may_close(request.user, item),
                "dossier_visible": item.dossier_id is not None
                and selectors.visible_dossier(request.user, item.dossier_id) is not None,
            }, status=400)
        return _refused(request, pk, exc)
    messages.success(request, _("The answer was recorded; its author is told by e-mail."))
    return redirect("support:request", pk)


@requires(Capability.ASK_SUPPORT, Capability.ANSWER_SUPPORT)
@require_POST
def close(request, pk):
    try:
        services.close_request(request.user, pk, ip=client_ip(request))
    except services.SupportError as exc:
        return _refused(request, pk, exc)
    messages.success(request, _("The request is closed."))
    return redirect("support:request", pk)
