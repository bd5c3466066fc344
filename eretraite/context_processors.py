"""What every page's header needs: the account's collectivity, role and navigation."""

from django.urls import reverse

from accounts import second_factor
from accounts.permissions import Capability, can, capabilities_of
from accounts.permissions import navigation_for as _navigation
from accounts.selectors import acting_collectivity


def navigation_for(user):
    """The navigation bar: only what the account may use (``accounts.permissions.NAVIGATION``)."""
    return [(label, reverse(url_name), key) for label, url_name, key in _navigation(user)]


def portal(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    match = getattr(request, "resolver_match", None)
    if second_factor.pending(user):
        # Between the password and the second factor: no navigation, nothing but the way on.
        return {"second_factor_pending": True, "nav_items": [], "capabilities": set(), "acting_for": None}
    acting = None
    if can(user, Capability.ACT_FOR_COMMUNE):
        acting = acting_collectivity(user, request.session)
    return {
        "acting_for": acting,
        "nav_items": navigation_for(user),
        "nav_current": match.url_name if match else "",
        # What the templates ask: {% if "manage_team" in capabilities %}.
        "capabilities": {str(c) for c in capabilities_of(user)},
    }
