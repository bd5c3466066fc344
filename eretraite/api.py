"""What every API view shares. For now: the JSON parser, which answers 400 to a body nested too deep
for Python to read (instead of letting the RecursionError become a 500)."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON sent is nested too deeply to be read.")) from None
