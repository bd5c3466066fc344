"""Where a form may send the browser back to: only this site (``next=`` from a page, never another)."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request) -> str:
    """The request's ``next`` if it is a path of this site ("/..."), else "" (for a link or a form)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def back_to(request, fallback, *args):
    """Redirect to the request's ``next`` if it names a page of this site, else to ``fallback``."""
    target = safe_next(request)
    return HttpResponseRedirect(target) if target else redirect(fallback, *args)
