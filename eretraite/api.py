"""What every API view shares: the JSON parser, which answers 400 to a body nested too deep for
Python to read (instead of letting the RecursionError become a 500), and one shape for every error.

Every refusal of the API, whatever raised it, is a JSON object in the caller's language
(``Accept-Language``)::

    {"code": "throttled", "detail": "the first message", "reasons": ["every message"],
     "fields": {"q": ["what is wrong with q"]}}

``fields`` is there for invalid input only (each field's messages are also at the top level, as
the API always answered them: ``{"q": [...]}``).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON sent is nested too deeply to be read.")) from None


def refusal(code: str, reasons, *, fields=None) -> dict:
    """The body of an API refusal (see the module's docstring)."""
    reasons = [str(reason) for reason in reasons] or [_("The request was refused.")]
    body = {"code": str(code), "detail": reasons[0], "reasons": reasons}
    if fields:
        body["fields"] = fields
        body.update({name: messages for name, messages in fields.items() if name not in body})
    return body


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [message for item in value.values() for message in _messages(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def exception_handler(exc, context):
    """DRF's handler, its answer rewritten in the one shape. Django's own 404 and 403 are first made
    DRF's (a 404 says "not found" in the caller's language, not which model the ORM looked in)."""
    from rest_framework.views import exception_handler as drf_exception_handler  # it reads this module

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, ValidationError):
        if isinstance(data, dict):
            fields = {str(name): _messages(value) for name, value in data.items()}
            reasons = [m for messages in fields.values() for m in messages]
        else:
            fields, reasons = {}, _messages(data)
        response.data = refusal("invalid", reasons, fields=fields)
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        code = codes if isinstance(codes, str) else "error"
        response.data = refusal(code, _messages(data.get("detail", data) if isinstance(data, dict) else data))
    return response
