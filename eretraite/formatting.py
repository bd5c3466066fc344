"""Numbers as the reader's language writes them, for pages, e-mails and PDFs alike.

Loaded into every template (``TEMPLATES[...]["OPTIONS"]["builtins"]``): ``{{ value|amount }}`` writes
an amount in dirhams with its thousands grouped ("12 345,67 DH", "12.345,67 درهم").
Django's ``USE_THOUSAND_SEPARATOR`` is not turned on: it would group every number of every page,
years and identifiers included ("2 026").
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext

register = template.Library()


@register.filter
def amount(value, decimals=2) -> str:
    """An amount in dirhams, grouped by thousands; what is not a number stays as it is."""
    if value in (None, ""):
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return gettext("%(amount)s DH") % {"amount": number_format(number, int(decimals), force_grouping=True)}


@register.filter
def percent(rate) -> str:
    """A rate (0.025) in per cent as the reader's language writes it: "2,5 %", "2,5 في المائة"."""
    try:
        number = Decimal(str(rate)) * 100
    except InvalidOperation:
        return str(rate)
    return gettext("%(rate)s %%") % {"rate": number_format(number.normalize(), decimal_pos=None)}


@register.filter
def grouped(value) -> str:
    """A count grouped by thousands (12 345)."""
    try:
        return number_format(int(value), 0, force_grouping=True)
    except (TypeError, ValueError):
        return str(value)


def listing(items) -> str:
    """Items joined as the reader's language writes a list: "a, b" in French, "a، b" in Arabic."""
    return pgettext("list separator", ", ").join(str(item) for item in items)


@register.filter(name="listing")
def listing_filter(items) -> str:
    return listing(items or ())


FSI, PDI = "\u2068", "\u2069"  # Unicode's first-strong isolate and its end


@register.filter
def isolate(value) -> str:
    """``value`` isolated from the sentence around it (Unicode FSI … PDI): a French name or a code inside an
    Arabic sentence keeps its own direction, and the sentence's punctuation stays at its own end. Works in
    pages, e-mails and messages alike (where an HTML ``<bdi>`` cannot go)."""
    text = "" if value is None else str(value)
    return f"{FSI}{text}{PDI}" if text else text


@register.filter
def bdi(value):
    """``value`` in an HTML ``<bdi>``: isolated from the sentence around it on a page (``isolate`` is for
    plain text: e-mails, messages)."""
    return format_html("<bdi>{}</bdi>", "" if value is None else value)
