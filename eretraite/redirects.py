"""Where a form may send the browser back to: only this site (``next=`` from a page, never another)."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request, fallback, *args):
    """Redirect to the request's ``next`` if it names a page of this site, else to ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback, *args)
