"""What every page's header needs: the account's collectivity, role and navigation."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import has_capability


def navigation_for(user):
    """The navigation bar: only what the role may use."""
    if not user.is_authenticated:
        return []
    items = [(_("Home"), reverse("home"), "home")]
    if has_capability(user, "consult_affiliates"):
        items.append((_("Affiliates"), reverse("affiliates:search"), "search"))
    if user.role == User.Role.CMR_AGENT:
        items.append((_("Corrections"), reverse("affiliates:corrections"), "corrections"))
    if user.role == User.Role.MANAGER:
        items.append((_("Team"), reverse("team"), "team"))
    if user.is_staff:
        items.append((_("Administration"), reverse("admin:index"), "admin"))
    return items


def portal(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    match = getattr(request, "resolver_match", None)
    return {
        "nav_items": navigation_for(user),
        "nav_current": match.url_name if match else "",
    }
