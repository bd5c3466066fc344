"""The situation page's "Dossiers" block: the affiliate's dossiers and the kinds one may open."""

from django import template
from django.utils.translation import gettext_lazy as _

from accounts.selectors import has_capability

from .. import selectors
from ..models import DossierKind
from ..workflow import TRANSITIONS, State

register = template.Library()


@register.inclusion_tag("dossiers/_affiliate_dossiers.html", takes_context=True)
def affiliate_dossiers(context, affiliate):
    user = context["request"].user
    return {
        "affiliate": affiliate,
        "dossiers": list(selectors.dossiers_for(user).filter(affiliate=affiliate).order_by("-created_at")),
        "kinds": list(DossierKind.objects.filter(is_active=True)) if has_capability(user, "prepare_dossiers") else [],
        "csrf_token": context.get("csrf_token"),
    }


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
def state_label(code):
    try:
        return State(code).label
    except ValueError:
        return code
