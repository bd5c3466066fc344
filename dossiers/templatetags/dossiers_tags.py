"""Template helpers of the dossier pages, and the situation page's "Dossiers" block (loaded by htmx
after the page, so the situation page keeps its own fixed query count)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import selectors, timeline
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
    "stage_sent": _("Stage sent to the CMR"),
    "second_certifier_named": _("Second certifier named"),
    "second_certifier_withdrawn": _("Second certifier withdrawn"),
    "delegated": _("Delegated to the provincial office"), "delegation_returned": _("Returned to the commune"),
}


@register.filter
def event_label(action):
    """A timeline event's label: the transition's, or one of the other acts'."""
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return _EVENT_LABELS.get(action, action)


@register.filter
def event_detail(event):
    """What the timeline says under an event, in the reader's language (``dossiers.timeline``)."""
    return timeline.event_detail(event)


@register.filter
def event_actor(event):
    """Who acted, in the reader's language."""
    return timeline.event_actor(event)


@register.filter
def state_label(code):
    try:
        return State(code).label
    except ValueError:
        return code



@register.filter
def changes_after_signing(document):
    """What the document's file gained after its officer signed it and that the signature allows, in
    the reader's language: '' if nothing."""
    return ", ".join(str(label) for label in selectors.changes_after_signing(document))
