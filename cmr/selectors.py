"""Reads of the CMR gateway."""

from accounts.models import User

from .models import Transmission


def may_follow_transmissions(user) -> bool:
    """CMR agents and DGCT administrators see every transmission (all collectivities)."""
    return bool(user.is_authenticated and user.is_active
                and user.role in (User.Role.CMR_AGENT, User.Role.DGCT_ADMIN))


def transmissions(status=Transmission.Status.FAILED):
    qs = Transmission.objects.select_related("dossier", "dossier__collectivity", "dossier__kind")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-next_attempt_at", "-pk")
