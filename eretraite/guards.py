"""Refusals made before any view runs, for inputs no field of the site accepts."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from .api import refusal
from .error_pages import bad_request


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)


class NullCharacterMiddleware:
    """A NUL character in a query parameter or a form field is refused (400) for the whole request: no
    text of the site may hold one, PostgreSQL cannot store one, and a filter or search given one would
    otherwise fail in the database. JSON bodies are the serializers' (their fields refuse NUL)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        form = request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                      "multipart/form-data")
        if _has_nul(request.GET) or (form and _has_nul(request.POST)):
            message = _("A value sent holds a NUL character, which no field accepts. Correct it and try again.")
            if request.path.startswith("/api/"):
                return JsonResponse(refusal("nul_character", [message]), status=400)
            return bad_request(request, message=message)
        return self.get_response(request)
