"""Template helpers of the dossier pages, and the situation page's "Dossiers" block (loaded by htmx
after the page, so the situation page keeps its own fixed query count)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from eretraite.formatting import listing

from .. import selectors, timeline
from ..workflow import State

register = template.Library()


@register.simple_tag
def affiliate_dossiers(affiliate):
    url = reverse("dossiers:affiliate_block", args=[affiliate.pk])
    return format_html('<div hx-get="{}" hx-trigger="load" hx-swap="outerHTML" data-testid="dossiers-loading"></div>',
                       url)
@register.filter
def event_label(event):
    """A timeline event's label (``dossiers.timeline``)."""
    return timeline.event_label(event)


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
    return listing(selectors.changes_after_signing(document))
