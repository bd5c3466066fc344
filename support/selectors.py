"""Reads about support requests. Who sees which: the asker his own and his collectivity's; those who
answer (the CMR, the DGCT) every one. A request outside that answers 404."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.permissions import Capability, can
from dossiers.models import Dossier
from dossiers.selectors import dossiers_for

from .models import SupportRequest

# The answerers' list starts with the requests awaiting an answer; the askers' with all of theirs.
ANSWERER_DEFAULT_STATUS = SupportRequest.Status.OPEN


def requests_for(user) -> QuerySet[SupportRequest]:
    """The support requests ``user`` may read, with what their lists show (a fixed number of queries)."""
    qs = SupportRequest.objects.select_related("asked_by", "collectivity", "dossier", "answered_by")
    if can(user, Capability.ANSWER_SUPPORT):
        return qs
    if not can(user, Capability.ASK_SUPPORT):
        return qs.none()
    mine = Q(asked_by=user)
    if user.collectivity_id is not None:
        mine |= Q(collectivity_id=user.collectivity_id)
    return qs.filter(mine)


def request_list(user, *, status: str | None = None) -> QuerySet[SupportRequest]:
    qs = requests_for(user)
    if status:
        qs = qs.filter(status=status)
    # Waiting longest first for those who answer what is open; the newest first otherwise.
    if status == SupportRequest.Status.OPEN and can(user, Capability.ANSWER_SUPPORT):
        return qs.order_by("created_at", "id")
    return qs.order_by("-created_at", "-id")


def get_request(user, pk) -> SupportRequest:
    return get_object_or_404(requests_for(user), pk=pk)


def default_status(user) -> str:
    """The status a list shows first: open requests for those who answer, every status for askers."""
    return ANSWERER_DEFAULT_STATUS if can(user, Capability.ANSWER_SUPPORT) else ""


def visible_dossier(user, dossier_id) -> Dossier | None:
    """The dossier ``dossier_id`` if ``user`` may see it (the dossiers' scoping selector), else None:
    another collectivity's dossier is, for him, one that does not exist."""
    try:
        pk = int(str(dossier_id).strip())
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return dossiers_for(user).filter(pk=pk).first()
