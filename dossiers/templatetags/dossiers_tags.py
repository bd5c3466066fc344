"""Template helpers of the dossier pages, and the situation page's "Dossiers" block (loaded by htmx
after the page, so the situation page keeps its own fixed query count)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..workflow import TRANSITIONS, State

register = template.Library()


@register.simple_tag
def affiliate_dossiers(affiliate):
    url = reverse("dossiers:affiliate_block", args=[affiliate.pk])
    return format_html('<div hx-get="{}" hx-trigger="load" hx-swap="outerHTML" data-testid="dossiers-loading"></div>',
                       url)
_EVENT_LABELS = {
    "opened": _("Dossier opened"), "document_added": _("Document added"),
    "document_replaced": _("Document replaced"), "document_removed": _("Document removed"),
    "observation": _("Observation"), "assigned": _("Taken in hand"),
}


@register.filter
def event_label(action):
    """A timeline event's label: the transition's, or one of the other acts'."""
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return _EVENT_LABELS.get(action, action)


@register.filter
def event_detail(event):
    """What the timeline says under an event, in the reader's language: the checklist item of a
    document event, or the text (a reason, an observation; a CMR stage code alone adds nothing)."""
    data = event.data or {}
    if "label_fr" in data:
        return data.get("label_ar") if (get_language() or "").startswith("ar") else data.get("label_fr")
    return "" if event.text == event.to_state else event.text


@register.filter
def state_label(code):
    try:
        return State(code).label
    except ValueError:
        return code
