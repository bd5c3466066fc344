"""Template filters of the verification reports."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


@register.filter
def local_moment(value) -> str:
    """A moment of a report (stored as ISO 8601 text, often in UTC) in the portal's time zone, as the
    reader's language writes it: never a UTC time beside local ones."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
