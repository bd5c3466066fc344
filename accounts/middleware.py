"""A session that passed the password but not yet the second factor reaches only the second factor's
pages (and logging out, and changing language): every other page sends it there, the API refuses it."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from eretraite.api import refusal

from . import second_factor

# Paths such a session may still reach.
OPEN_PATHS = ("/security/second-factor/", "/logout/", "/i18n/", "/static/", "/favicon.ico")
# Pages such a session may still read, exactly (the help page: the CMR's support line, for one stuck here).
OPEN_PAGES = ("/help/",)


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware (which tells whether the session passed a device)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (not request.path.startswith(OPEN_PATHS) and request.path not in OPEN_PAGES
                and second_factor.pending(user)
                and not second_factor.pass_by_trusted_browser(request)):
            if request.path.startswith("/api/"):
                return JsonResponse(refusal("second_factor_required", [
                    _("Pass the second factor first (log in again on the site).")]), status=403)
            step = "second_factor_verify" if second_factor.is_enrolled(user) else "second_factor_setup"
            target = reverse(step)
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return self.get_response(request)
