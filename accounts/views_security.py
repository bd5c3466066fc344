"""The account's security pages: the second factor (enrol, pass, recovery codes, trusted browsers),
the password (change, forgotten), API tokens, and a manager's reset of a sub-account. Thin: the
services decide."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from eretraite import confirm
from eretraite.network import client_ip
from eretraite.redirects import back_to, safe_next

from . import api_tokens, second_factor, services
from .forms import ApiTokenForm, EnrolmentForm, PasswordResetRequestForm, SecondFactorForm
from .models import TrustedBrowser
from .permissions import Capability, requires
from .selectors import get_subaccount
from .views import subaccount_facts


@login_required
def security(request):
    user = request.user
    return render(request, "accounts/security.html", {
        "enrolled": second_factor.is_enrolled(user),
        "required": second_factor.is_needed(user),
        "codes_left": second_factor.recovery_codes_left(user),
        "browsers": TrustedBrowser.objects.filter(user=user).order_by("-created_at"),
        "may_have_tokens": api_tokens.may_have_tokens(user),
    })


NEW_KEY_SESSION_KEY = "new_api_key"


@login_required
def api_token_list(request):
    """The account's API tokens, and a form to make one. A new key goes through the session to the
    page that follows (so that reloading it makes no second token) and is shown there once."""
    user = request.user
    if not api_tokens.may_have_tokens(user):
        raise PermissionDenied(_("Your account may not have API tokens."))
    form = ApiTokenForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _token, key = api_tokens.issue(user, name=data["name"], scope=data["scope"],
                                           collectivity=data.get("collectivity"), days=data["days"],
                                           ip=client_ip(request))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            request.session[NEW_KEY_SESSION_KEY] = key
            return redirect("api_tokens")
    new_key = request.session.pop(NEW_KEY_SESSION_KEY, None) if request.method == "GET" else None
    response = render(request, "accounts/api_tokens.html", {
        "form": form, "new_key": new_key, "tokens": api_tokens.tokens_of(user),
        "own_collectivity": user.collectivity if api_tokens.must_name_a_collectivity(user) else None,
        "now": timezone.now()})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    token = api_tokens.revoke(request.user, pk, ip=client_ip(request))
    if token is None:
        raise Http404
    messages.success(request, _("The token \"%(name)s\" is revoked: the application using it is refused from now on.")
                     % {"name": token.name})
    return redirect("api_tokens")


@login_required
@never_cache  # the page shows the secret; its answer, the recovery codes
def second_factor_setup(request):
    """Enrol an application. A session that has not passed an enrolled second factor may not replace
    it (the password alone must never be enough to take over an account)."""
    user = request.user
    if second_factor.is_enrolled(user) and not second_factor.passed(user):
        return redirect("second_factor_verify")
    device = second_factor.pending_device(user)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = second_factor.confirm_enrolment(user, form.cleaned_data["code"], request=request,
                                                ip=client_ip(request))
        if codes:
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "enrolled_now": True,
                                                                    "next": safe_next(request)})
        form.add_error("code", _("This code is not the one the application shows now. Check that the phone's "
                                 "time is right and type the code shown, before it changes."))
    return render(request, "accounts/second_factor_setup.html", {
        "form": form, "qr": second_factor.qr_svg(device, user), "secret": second_factor.secret_of(device),
        "required": second_factor.is_needed(user), "next": safe_next(request)})


@login_required
def second_factor_verify(request):
    user = request.user
    if not second_factor.is_enrolled(user):
        return redirect("second_factor_setup")
    if second_factor.passed(user):
        return back_to(request, "home")
    form = SecondFactorForm(request.POST or None)
    wait = second_factor.throttled_for(user)
    if request.method == "POST" and form.is_valid():
        device = second_factor.verify(request, form.cleaned_data["code"], ip=client_ip(request))
        if device is not None:
            left = second_factor.recovery_codes_left(user)
            if second_factor.is_recovery(device):
                messages.warning(request, _("You used a recovery code; %(n)d are left. If your phone is lost, "
                                            "enrol a new one on your security page.") % {"n": left})
            response = back_to(request, "home")
            if form.cleaned_data["trust"]:
                second_factor.trust_browser(request, response, ip=client_ip(request))
            return response
        wait = second_factor.throttled_for(user)
        form.add_error("code", _("This code is not valid (or was already used). Type the code your application "
                                 "shows now, or one of your recovery codes."))
    return render(request, "accounts/second_factor_verify.html", {"form": form, "wait": wait,
                                                                   "next": safe_next(request)})


@login_required
@require_POST
@never_cache
def recovery_codes_renew(request):
    if not second_factor.passed(request.user):
        raise PermissionDenied
    codes = second_factor.renew_recovery_codes(request.user, ip=client_ip(request))
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "enrolled_now": False})


@login_required
@require_POST
def trusted_browser_revoke(request, pk):
    second_factor.revoke_browser(request.user, pk, ip=client_ip(request))
    messages.success(request, _("This browser is no longer trusted: the code will be asked there again."))
    return redirect("security")


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # this session stays; the others end
        services.change_password(user, ip=client_ip(request))
        messages.success(request, _("Your password is changed. Your other sessions are logged out."))
        return redirect("security")
    return render(request, "accounts/password_change.html", {"form": form})


def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(form.cleaned_data["identifier"], ip=client_ip(request))
        return render(request, "accounts/password_reset_sent.html")
    return render(request, "accounts/password_reset.html", {"form": form})


@requires(Capability.MANAGE_TEAM)
@require_POST
def subaccount_reset(request, pk):
    agent = get_subaccount(request.user, pk)
    if confirm.pending(request, "account.reset"):
        return confirm.ask(request, "account.reset", cancel_url=reverse("team"), params={
            "name": agent.get_full_name(), "email": agent.email}, facts=subaccount_facts(agent))
    second_factor.reset_account(agent, by=request.user, ip=client_ip(request))
    messages.success(request, _("%(name)s's password and second factor are reset: a link to choose a new password "
                                "was sent to %(email)s.") % {"name": agent.get_full_name(), "email": agent.email})
    return redirect("team")
