"""The pages of refusals and failures (400, 403, 404, 500), in the reader's language, with the site's
navigation, saying what to do next. Django's own bare English pages are never shown."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

PAGES = {
    400: (_("The request could not be understood"),
          _("Something in what was sent is not valid (a value too long, a character that is not allowed, a "
            "broken link). Go back, correct it and try again.")),
    403: (_("This page is not for your account"),
          _("Your account does not have the capability this page needs. If you should have it, ask your "
            "collectivity's manager (or the DGCT) to grant it.")),
    404: (_("Page not found"),
          _("This page does not exist, or it is not in your account's scope. Check the address, or use "
            "the navigation above.")),
    500: (_("Something went wrong on our side"),
          _("The platform could not complete this request. Look at the page to see whether it was recorded "
            "before trying again in a few minutes; if it happens again, contact the support.")),
}


def _page(request, status, message=None):
    title, explanation = PAGES[status]
    return render(request, "errors/page.html", {"status": status, "title": title, "explanation": explanation,
                                                "message": message}, status=status)


def bad_request(request, exception=None, message=None):
    return _page(request, 400, message)


def permission_denied(request, exception=None):
    return _page(request, 403)


def page_not_found(request, exception=None):
    return _page(request, 404)


def server_error(request):
    try:
        return _page(request, 500)
    except Exception:  # noqa: BLE001 - the page itself failed: the plainest answer there is
        return HttpResponseServerError("500")
