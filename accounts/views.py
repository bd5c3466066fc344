"""Pages for accounts: home, team (sub-accounts), activation. Thin: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from eretraite import confirm
from eretraite.db import reading_from_replica
from eretraite.formatting import listing
from eretraite.network import client_ip
from eretraite.redirects import back_to

from . import selectors, services
from .forms import ActivationForm, CapabilitiesForm, SubaccountForm
from .models import ActivationLink
from .permissions import Capability, can, requires
from .reads import record_read


@login_required
def home(request):
    from dossiers import selectors as dossier_selectors

    with reading_from_replica():  # a dashboard: from the read replica when there is one
        context = {"visible_count": selectors.visible_collectivities(request.user).count()}
        if can(request.user, Capability.SEE_DOSSIERS):
            context["dossier_counts"] = dossier_selectors.counts_by_state(request.user)
            context["cmr_events"] = dossier_selectors.recent_cmr_events(request.user)
        if can(request.user, Capability.PREPARE_DOSSIERS) and can(request.user, Capability.CONSULT_AFFILIATES):
            context["approaching"] = dossier_selectors.approaching_without_dossier(request.user)
    shown = [e.dossier.affiliate_id for e in context.get("cmr_events", [])] + [
        a.pk for a in context.get("approaching", [])]
    if shown:  # the home page names people too (law 09-08)
        record_read(request, "affiliate.listed", affiliates=shown, data={"page": "home"})
    return render(request, "accounts/home.html", context)


@requires(Capability.ACT_FOR_COMMUNE)
def act_for(request):
    """A provincial office chooses the commune of its province it acts for."""
    communes = selectors.visible_collectivities(request.user).order_by("name_fr")
    if request.method == "POST":
        chosen = request.POST.get("collectivity", "")
        if not chosen.isdecimal():  # a page of this site sends a commune's id, nothing else
            raise Http404
        commune = get_object_or_404(communes, pk=int(chosen))
        request.session[selectors.ACTING_FOR_SESSION_KEY] = commune.pk
        services.record_audit("provincial_office.acts_for", actor=request.user, collectivity=commune,
                              on_behalf_of=commune, ip=client_ip(request))
        messages.success(request, _("You now act on behalf of %(council)s.") % {"council": commune.council_label})
        return back_to(request, "home")
    query = (request.GET.get("q") or "").strip()
    if query:
        communes = communes.filter(Q(name_fr__icontains=query) | Q(name_ar__icontains=query) | Q(code=query))
    page = Paginator(communes, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/act_for.html", {"page": page, "q": query,
                                                     "query": f"q={query}" if query else ""})


def _manager_only(request):
    if not can(request.user, Capability.MANAGE_TEAM):
        raise PermissionDenied(_("Only the collectivity's manager administers its sub-accounts."))


def _apply_form_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


@login_required
def team(request):
    _manager_only(request)
    page = Paginator(selectors.subaccounts_of(request.user), 25).get_page(request.GET.get("page"))
    emails = selectors.latest_link_emails(page.object_list)
    for agent in page.object_list:
        agent.link_email = emails.get(agent.pk)
    return render(request, "accounts/team.html", {"page": page})


@login_required
def subaccount_create(request):
    _manager_only(request)
    form = SubaccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            agent = services.create_subaccount(
                request.user, full_name=d["full_name"], cin=d["cin"], email=d["email"],
                position=d["position"], phone_mobile=d["phone_mobile"], capabilities=form.capabilities(),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            _apply_form_errors(form, exc)
        else:
            messages.success(request, _("Account created for %(name)s. An activation link was sent to %(email)s.")
                             % {"name": agent.full_name, "email": agent.email})
            return redirect("team")
    return render(request, "accounts/subaccount_form.html", {"form": form, "creating": True})


@login_required
def subaccount_edit(request, pk):
    _manager_only(request)
    agent = selectors.get_subaccount(request.user, pk)
    initial = {f: getattr(agent, f) for f in ("can_consult_affiliates", "can_prepare_dossiers",
                                              "can_certify_dossiers", "position")}
    form = CapabilitiesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_subaccount(request.user, pk, capabilities=form.capabilities(),
                                   position=form.cleaned_data["position"], ip=client_ip(request))
        messages.success(request, _("The capabilities of %(name)s were saved.") % {"name": agent.full_name})
        return redirect("team")
    return render(request, "accounts/subaccount_form.html", {"form": form, "agent": agent, "creating": False})


def subaccount_facts(agent) -> list[tuple]:
    """What a confirmation page says of the sub-account it is about."""
    granted = [label for flag, label in (("can_consult_affiliates", _("consult affiliates")),
                                         ("can_prepare_dossiers", _("prepare dossiers")),
                                         ("can_certify_dossiers", _("certify dossiers"))) if getattr(agent, flag)]
    return [(_("Full name"), agent.full_name), (_("Login (CIN)"), agent.username), (_("E-mail"), agent.email or "—"),
            (_("Position"), agent.position or "—"), (_("Capabilities"), listing(granted) or "—")]


@login_required
@require_POST
def subaccount_toggle(request, pk):
    _manager_only(request)
    active = request.POST.get("active") == "1"
    if not active and confirm.pending(request, "account.disable"):
        agent = selectors.get_subaccount(request.user, pk)
        if agent.is_active:  # (already disabled: nothing to ask, nothing changes)
            return confirm.ask(request, "account.disable", cancel_url=reverse("team"), params={
                "name": agent.full_name}, facts=subaccount_facts(agent))
    agent = services.set_subaccount_active(request.user, pk, active=active, ip=client_ip(request))
    if active:
        messages.success(request, _("The account of %(name)s is enabled.") % {"name": agent.full_name})
    else:
        messages.success(request, _("The account of %(name)s is disabled: it can no longer log in.")
                         % {"name": agent.full_name})
    return redirect("team")


@login_required
@require_POST
def subaccount_resend(request, pk):
    _manager_only(request)
    try:
        agent = services.resend_activation(request.user, pk, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("A new activation link was sent to %(email)s.") % {"email": agent.email})
    return redirect("team")


def activate(request, token):
    try:
        link = services.check_activation_token(token)
    except services.ActivationError as exc:
        return render(request, "accounts/activation_invalid.html", {"error": exc}, status=410 if exc.code in (
            "used", "expired") else 404)
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.activate_account(token, form.cleaned_data["password1"], ip=client_ip(request))
        except services.ActivationError as exc:
            return render(request, "accounts/activation_invalid.html", {"error": exc}, status=410)
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("password1", error)
        else:
            messages.success(request, _("Your password is set. Log in with your CIN (%(username)s) and it.")
                             % {"username": link.user.username})
            return redirect("login")
    return render(request, "accounts/activate.html", {"form": form, "account": link.user,
                                                      "reset": link.purpose == ActivationLink.Purpose.RESET})
