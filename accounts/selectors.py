"""Reads about collectivities and accounts. Scoping is decided here and only here.

``scope_q(user, path)`` is the one place that says which collectivities an account may see;
every queryset of affiliates, dossiers or accounts filters through it (``scoped``,
``visible_collectivities``). An object outside the
scope is answered with 404 (``get_object_or_404`` on the scoped queryset), never 403.
"""

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import AuditEvent, Collectivity, LinkEmail, User
from .permissions import Capability, Scope, can, scope_of, signing_roles


def scope_q(user, path: str = "collectivity") -> Q | None:
    """The filter that keeps, of rows whose collectivity is reached through ``path`` ("collectivity",
    "affiliate__collectivity", or "" for collectivities themselves), those ``user`` may see, from his
    role's scope (``accounts.permissions.ROLES``):

    - national (DGCT administrators, CMR agents, superusers): all of them, and the filter is empty
      (``Q()``: no list of the country's 1,590 ids for the database to plan);
    - own (a collectivity manager or agent): his own collectivity only;
    - province (a provincial office): the communes of its prefecture or province;
    - anyone else (anonymous, disabled, no role): none (``None``).

    A request made with an API token narrowed to one collectivity sees that one only (if still in scope).
    Used through ``scoped`` and ``visible_collectivities``, the one place scope is decided.
    """
    own = f"{path}_id" if path else "pk"
    q = Q()
    token = getattr(user, "api_token", None)
    if token is not None and token.collectivity_id is not None:
        q &= Q(**{own: token.collectivity_id})
    scope = scope_of(user)
    if scope == Scope.NATIONAL:
        return q
    if scope == Scope.NONE or user.collectivity_id is None:
        return None
    if scope == Scope.OWN:
        return q & Q(**{own: user.collectivity_id})
    if scope == Scope.PROVINCE:
        communes = Q(kind=Collectivity.Kind.COMMUNE, province_id=user.collectivity_id)
        if not path:
            return q & communes
        # Other rows name the communes as a list of ids (one small query): with a join or a sub-select
        # the planner repeats a name index scan once per commune, with the list it scans once.
        return q & Q(**{f"{own}__in": list(Collectivity.objects.filter(communes).values_list("pk", flat=True))})
    return None


def scoped(qs: QuerySet, user, path: str = "collectivity") -> QuerySet:
    """``qs`` narrowed to what ``user`` may see (``scope_q``): every queryset of affiliates,
    dossiers or accounts passes here."""
    q = scope_q(user, path)
    if q is None:
        return qs.none()
    return qs.filter(q) if q else qs


def visible_collectivities(user) -> QuerySet[Collectivity]:
    """The collectivities whose staff and dossiers ``user`` may see (``scope_q``)."""
    return scoped(Collectivity.objects.all(), user, "")


ACTING_FOR_SESSION_KEY = "acting_for"


def acting_collectivity(user, session) -> Collectivity | None:
    """The collectivity an account acts for now.

    A manager or agent acts for his own collectivity. A provincial office acts for the commune it
    chose (kept in the session; through the API, the one its token names), only while that commune is
    in its scope; None until it chooses.
    """
    scope = scope_of(user)
    if scope == Scope.OWN:
        return user.collectivity
    if can(user, Capability.ACT_FOR_COMMUNE):
        token = getattr(user, "api_token", None)  # through the API, the commune its token names
        pk = token.collectivity_id if token is not None else session.get(ACTING_FOR_SESSION_KEY)
        return visible_collectivities(user).filter(pk=pk).first() if pk else None
    return None


def on_behalf_of(user, session) -> Collectivity | None:
    """What an act must say it was done "on behalf of": the commune a provincial office acts for."""
    if can(user, Capability.ACT_FOR_COMMUNE):
        return acting_collectivity(user, session)
    return None


def activated(users: QuerySet) -> QuerySet:
    """The accounts whose holder has chosen a password (by his activation link, or set by the DGCT):
    an account created by the designation import or by a manager stays pending until then."""
    return users.exclude(Q(password="") | Q(password__startswith=UNUSABLE_PASSWORD_PREFIX))


def signing_officers(collectivity, *, uploader=None) -> list[dict]:
    """Who may sign the documents a collectivity sends: its active and activated officers (managers
    and agents), and the provincial office ``uploader`` when it acts for that commune (its signature
    then counts "on behalf of" the commune). Plain data, as ``signatures`` takes it
    (``verification.Signer``): ``cin``, ``full_name``, ``account_id``, ``on_behalf_of_id``."""
    collectivity_id = getattr(collectivity, "pk", collectivity)
    officers = activated(User.objects.filter(
        collectivity_id=collectivity_id, is_active=True, role__in=signing_roles(),
    ).exclude(cin=None).exclude(cin="")).order_by("pk")
    result = [{"cin": u.cin, "full_name": u.full_name or "", "account_id": u.pk, "on_behalf_of_id": None}
              for u in officers.only("pk", "cin", "full_name")]
    if (uploader is not None and can(uploader, Capability.ACT_FOR_COMMUNE) and uploader.cin
            and activated(User.objects.filter(pk=uploader.pk, is_active=True)).exists()
            and visible_collectivities(uploader).filter(pk=collectivity_id).exists()):
        result.append({"cin": uploader.cin, "full_name": uploader.full_name or "", "account_id": uploader.pk,
                       "on_behalf_of_id": collectivity_id})
    return result


def can_see_collectivity(user, collectivity) -> bool:
    return visible_collectivities(user).filter(pk=collectivity.pk).exists()


def subaccounts_of(manager) -> QuerySet[User]:
    """The sub-accounts a manager administers: the agents of his collectivity."""
    if not can(manager, Capability.MANAGE_TEAM):
        return User.objects.none()
    return (
        User.objects.filter(role=User.Role.AGENT, collectivity__in=visible_collectivities(manager))
        .select_related("collectivity", "created_by")
        .order_by("-is_active", "full_name", "pk")
    )


def get_subaccount(manager, pk) -> User:
    return get_object_or_404(subaccounts_of(manager), pk=pk)


def collectivity_by_code(code: str) -> Collectivity | None:
    return Collectivity.objects.filter(code=code).first()


def audit_events_for(target_type: str, target_id) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id)).select_related("actor")


def latest_link_emails(users) -> dict[int, LinkEmail]:
    """The latest activation or reset e-mail of each of ``users`` (by user id), in one query."""
    latest = {}
    for email in LinkEmail.objects.filter(user__in=list(users)).order_by("user_id", "-created_at", "-pk"):
        latest.setdefault(email.user_id, email)
    return latest
