"""Reads of the CMR gateway."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import Capability, can
from dossiers.models import Dossier

from .models import CmrEvent, StageConflict, Transmission

CLOSED_STATES = ("in_payment", "rejected", "cancelled")


def may_follow_transmissions(user) -> bool:
    """CMR agents and DGCT administrators see every transmission (all collectivities)."""
    return can(user, Capability.FOLLOW_TRANSMISSIONS)


def transmissions(status=Transmission.Status.FAILED):
    qs = Transmission.objects.select_related("dossier", "dossier__collectivity", "dossier__kind")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-next_attempt_at", "-pk")


def claimable(now) -> Q:
    """The rows a sender may take: pending and due, or sending with the lease expired (sender gone)."""
    return Q(status=Transmission.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Transmission.Status.SENDING, locked_until__lt=now)


def due_transmissions(*, now=None, limit=500) -> list[int]:
    """Pending transmissions that are due, and those whose sender vanished (lease expired)."""
    now = now or timezone.now()
    return list(Transmission.objects.filter(claimable(now)).order_by("next_attempt_at")
                .values_list("pk", flat=True)[:limit])


def dossiers_to_reconcile(*, quiet_seconds=None, limit=200) -> list[str]:
    """CMR references to reconcile: those with an open stage conflict, then delivered dossiers not
    closed with no stage event for a while."""
    quiet = quiet_seconds if quiet_seconds is not None else settings.CMR_RECONCILE_QUIET_SECONDS
    since = timezone.now() - timedelta(seconds=quiet)
    recent = CmrEvent.objects.filter(applied_at__gte=since).values("cmr_reference")
    conflicted = list(StageConflict.objects.filter(resolved_at=None).order_by("first_seen_at")
                      .values_list("cmr_reference", flat=True).distinct()[:limit])
    quiet = list(Dossier.objects.exclude(cmr_reference="").exclude(state__in=CLOSED_STATES)
                 .filter(transmissions__status=Transmission.Status.DELIVERED, transmissions__round=1,
                         transmissions__kind=Transmission.Kind.DELIVERY,
                         transmissions__delivered_at__lt=since, state_changed_at__lt=since)
                 .exclude(cmr_reference__in=recent).order_by("state_changed_at")
                 .values_list("cmr_reference", flat=True)[:limit])
    return list(dict.fromkeys(conflicted + quiet))[:limit]  # the two records disagree: those first


def open_conflicts():
    """Stage reports the portal could not apply and that are not settled yet, newest first."""
    return (StageConflict.objects.filter(resolved_at=None)
            .select_related("dossier", "dossier__collectivity", "dossier__kind").order_by("-last_seen_at"))
