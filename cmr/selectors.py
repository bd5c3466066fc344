"""Reads of the CMR gateway."""

from accounts.permissions import Capability, can

from .models import Transmission


def may_follow_transmissions(user) -> bool:
    """CMR agents and DGCT administrators see every transmission (all collectivities)."""
    return can(user, Capability.FOLLOW_TRANSMISSIONS)


def transmissions(status=Transmission.Status.FAILED):
    qs = Transmission.objects.select_related("dossier", "dossier__collectivity", "dossier__kind")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-next_attempt_at", "-pk")
