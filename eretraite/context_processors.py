"""What every page's header needs: the account's collectivity, role and navigation."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import acting_collectivity, has_capability


def navigation_for(user):
    """The navigation bar: only what the role may use."""
    if not user.is_authenticated:
        return []
    items = [(_("Home"), reverse("home"), "home")]
    if has_capability(user, "consult_affiliates"):
        items.append((_("Affiliates"), reverse("affiliates:search"), "search"))
    if user.role == User.Role.CMR_AGENT:
        items.append((_("Queue"), reverse("dossiers:queue"), "queue"))
    elif has_capability(user, "prepare_dossiers") or has_capability(user, "certify_dossiers"):
        items.append((_("Dossiers"), reverse("dossiers:list"), "list"))
    if user.role == User.Role.CMR_AGENT:
        items.append((_("Corrections"), reverse("affiliates:corrections"), "corrections"))
        items.append((_("Transmissions"), reverse("cmr:transmissions"), "transmissions"))
    if user.role == User.Role.MANAGER:
        items.append((_("Team"), reverse("team"), "team"))
    if user.role == User.Role.PROVINCIAL_OFFICE:
        items.append((_("Choose the commune"), reverse("act_for"), "act_for"))
    if user.is_staff:
        items.append((_("Administration"), reverse("admin:index"), "admin"))
    return items


def portal(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    match = getattr(request, "resolver_match", None)
    acting = None
    if getattr(user, "role", None) == User.Role.PROVINCIAL_OFFICE:
        acting = acting_collectivity(user, request.session)
    return {
        "acting_for": acting,
        "nav_items": navigation_for(user),
        "nav_current": match.url_name if match else "",
    }
