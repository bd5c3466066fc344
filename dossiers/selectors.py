"""Reads about dossiers, always through the scoping selector."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Collectivity, User
from accounts.permissions import ROLES, Capability, Scope, can, scope_of
from accounts.selectors import activated, scoped
from affiliates.models import Affiliate, FamilyMember
from affiliates.selectors import approaching_age_limit, counting_stop
from signatures.services import VerificationReport

from . import rules
from .checklists import line_words
from .models import ChecklistItem, Document, Dossier, DossierKind, Event
from .workflow import CLOSED, CMR_STAGES, STAGE_TRANSITION, State

# From ``transmitted`` on, a dossier has reached the CMR; before (draft, awaiting certification,
# certified) it is its collectivity's work. In the workflow's order.
REACHED_CMR = tuple(s for s in State if s == State.TRANSMITTED or s in CMR_STAGES)

# The CMR queue's views: the states each one shows. "To process" is the CMR's open work, the default;
# documents requested wait for the collectivity; closed dossiers show only when asked.
QUEUE_VIEWS = {
    "to_process": (State.TRANSMITTED, State.RECEIVED, State.UNDER_REVIEW, State.LIQUIDATED),
    "waiting": (State.DOCUMENTS_REQUESTED,),
    "closed": (State.IN_PAYMENT, State.REJECTED),
    "all": REACHED_CMR,
}
TO_PROCESS = "to_process"


def dossiers_for(user) -> QuerySet[Dossier]:
    """The dossiers ``user`` may see: those of his visible collectivities, and only if his account may
    see dossiers at all (a sub-account with no dossier right sees none: their pages, documents and
    slips answer 404)."""
    qs = Dossier.objects.select_related("kind", "affiliate", "collectivity", "assigned_to")
    if not can(user, Capability.SEE_DOSSIERS):
        return qs.none()
    return scoped(qs, user)


def listed_dossiers(user) -> QuerySet[Dossier]:
    """The dossiers a list shows ``user`` (the portfolio, the queue, the home page's counts, the API's
    list): those of his scope (``dossiers_for``); a national reader (the CMR) lists only those that
    reached the CMR, the collectivities' drafts, dossiers awaiting certification and certified ones
    being their own work. A dossier's own page still follows ``dossiers_for`` alone."""
    qs = dossiers_for(user)
    if scope_of(user) == Scope.NATIONAL:
        qs = qs.filter(state__in=REACHED_CMR)
    return qs


def get_dossier(user, pk) -> Dossier:
    """One dossier in scope, with what its page shows, or 404."""
    qs = dossiers_for(user).select_related("parent", "created_by", "submitted_by", "certified_by",
                                           "second_certifier__collectivity", "delegated_to").prefetch_related(
        Prefetch("documents", queryset=Document.objects.select_related("item", "member", "uploaded_by",
                                                                       "signed_on_behalf_of")),
        Prefetch("events", queryset=Event.objects.select_related("actor", "on_behalf_of")),
        Prefetch("affiliate__family", queryset=FamilyMember.objects.order_by("relation", "birth_date")),
    )
    return get_object_or_404(qs, pk=pk)


def _counts(qs) -> dict:
    """``{state: number}`` of ``qs``, in the workflow's order, in one aggregate query."""
    counts = dict(qs.order_by().values_list("state").annotate(n=Count("pk")))
    return {state.value: counts[state] for state in State if state in counts}


def counts_by_state(user) -> dict:
    return _counts(listed_dossiers(user))


@dataclass
class ChecklistLine:
    item: ChecklistItem
    required: bool
    member: FamilyMember | None = None
    documents: list = field(default_factory=list)

    asked_again: bool = False  # the CMR asks for it again: only a document of the new round satisfies it
    round: int = 1

    @property
    def satisfied(self):
        if self.asked_again:
            return any(d.round >= self.round for d in self.documents)
        return bool(self.documents)

    @property
    def key(self):
        return f"{self.item.code}:{self.member.pk}" if self.member else self.item.code

    @property
    def words(self) -> frozenset[str]:
        """What names the line's item, to sort an uploaded file to it (``checklists.sort_file``)."""
        return line_words(self.item.code, self.item.label_fr, self.item.label_ar)


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def checklist(dossier: Dossier, *, on: date | None = None) -> list[ChecklistLine]:
    """The dossier's checklist, its conditions applied to the affiliate's family, with its documents.

    ``child_16_21`` items become one line per child aged 16 to 21; ``married`` and ``children``
    items are required only when the registry shows a spouse, or children under 21.
    """
    on = on or timezone.localdate()
    family = list(dossier.affiliate.family.all())
    spouses = [m for m in family if m.relation == FamilyMember.Relation.SPOUSE]
    children = [m for m in family if m.relation == FamilyMember.Relation.CHILD]
    minors = [c for c in children if _age_on(c.birth_date, on) < 21]
    students = [c for c in children if 16 <= _age_on(c.birth_date, on) <= 21]
    documents = list(dossier.documents.all())
    asked = {item.pk for request in dossier.document_requests.filter(fulfilled_at=None).prefetch_related("items")
             for item in request.items.all()}
    lines = []
    items = ChecklistItem.objects.filter(kind_id=dossier.kind_id, is_active=True).order_by("order", "pk")
    for item in items:
        condition = item.condition
        if condition == ChecklistItem.Condition.CHILD_16_21:
            for child in students:
                docs = [d for d in documents if d.item_id == item.pk and d.member_id == child.pk]
                lines.append(ChecklistLine(item, item.required, child, docs, item.pk in asked, dossier.round))
            continue
        applies = {"": True, "married": bool(spouses), "children": bool(minors)}.get(condition, True)
        docs = [d for d in documents if d.item_id == item.pk]
        if applies or docs:
            lines.append(ChecklistLine(item, item.required and applies or item.pk in asked, None, docs,
                                       item.pk in asked, dossier.round))
    return lines


def received_digests(dossier: Dossier) -> list[str]:
    """The SHA-256 of every file this dossier already holds, of every sending (one is never sent twice)."""
    return list(dossier.documents.order_by("pk").values_list("sha256", flat=True))


def latest_delivery(dossier: Dossier):
    """The newest round sent (or to send) to the CMR, with its state (``Transmission.plain_status``)."""
    return latest_deliveries([dossier]).get(dossier.pk)


def latest_deliveries(dossiers) -> dict:
    """The newest sending of each of ``dossiers`` to the CMR, by dossier id, in one query (the rows of
    the gateway's outbox, read through the dossier's relation: this app does not import the gateway)."""
    sending = Dossier._meta.get_field("transmissions").related_model
    latest = {}
    for row in sending.objects.filter(dossier__in=list(dossiers), kind="delivery").order_by("dossier_id", "-round"):
        latest.setdefault(row.dossier_id, row)
    return latest


def missing_items(dossier: Dossier) -> list[ChecklistLine]:
    return [line for line in checklist(dossier) if line.required and not line.satisfied]


# --- pages (added with the dossier pages) -----------------------------------------------------------

def _narrowed(qs, *, kind="", region=None, province=None, collectivity="", min_days=None):
    """``qs`` narrowed to a kind (its code); a region or a prefecture/province (a council's id: its own
    dossiers and those of the councils within it); a collectivity (its HCP code); dossiers in their
    state for ``min_days`` days or more."""
    if kind:
        qs = qs.filter(kind__code=kind)
    if region:
        qs = qs.filter(Q(collectivity__region_id=region) | Q(collectivity_id=region))
    if province:
        qs = qs.filter(Q(collectivity__province_id=province) | Q(collectivity_id=province))
    if collectivity:
        qs = qs.filter(collectivity__code=collectivity)
    if min_days:
        qs = qs.filter(state_changed_at__lte=timezone.now() - timedelta(days=min_days))
    return qs


# Sorts of a list; "waiting" (the queue's default) is the waiting time in the current state, longest first.
ORDERS = {
    "due": (F("due_date").asc(nulls_last=True), "state_changed_at", "pk"),
    "state_date": ("state_changed_at", "pk"),
    "waiting": ("state_changed_at", "pk"),
    "opened": ("-created_at", "-pk"),
}


def filtered_dossiers(user, *, state="", kind="", region=None, collectivity="", min_days=None, sort="due"):
    """The portfolio (and the API's list): scoped, filtered, sorted; rows carry what a list shows."""
    qs = _narrowed(listed_dossiers(user), kind=kind, region=region, collectivity=collectivity, min_days=min_days)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by(*ORDERS.get(sort, ORDERS["due"]))


@dataclass
class Queue:
    dossiers: QuerySet  # the rows of the view or stage asked, sorted
    counts: dict  # {state: number} of every stage at the CMR, under the same narrowing filters
    views: dict  # {view: number}


def cmr_queue(user, *, view=TO_PROCESS, state="", kind="", region=None, province=None, collectivity="",
              min_days=None, sort="waiting") -> Queue:
    """The CMR's queue: only dossiers that reached the CMR; one stage (``state``) or one of
    ``QUEUE_VIEWS`` ("to process" by default), narrowed by kind, region, province, collectivity and
    waiting time, sorted by waiting time (longest first) unless asked otherwise; with the count of each
    stage under the same narrowing (one aggregate query)."""
    qs = _narrowed(listed_dossiers(user).filter(state__in=REACHED_CMR), kind=kind, region=region,
                   province=province, collectivity=collectivity, min_days=min_days)
    counts = _counts(qs)
    shown = [state] if state in REACHED_CMR else QUEUE_VIEWS.get(view, QUEUE_VIEWS[TO_PROCESS])
    rows = qs.filter(state__in=shown).select_related("collectivity__province")
    return Queue(dossiers=rows.order_by(*ORDERS.get(sort, ORDERS["waiting"])), counts=counts,
                 views={name: sum(counts.get(s, 0) for s in states) for name, states in QUEUE_VIEWS.items()})


def regions_and_provinces() -> list[tuple[Collectivity, list[Collectivity]]]:
    """Every region with its prefectures and provinces, sorted by name in the reader's language (one
    query): the queue's place filters."""
    places = sorted(Collectivity.objects.filter(kind__in=[Collectivity.Kind.REGION, Collectivity.Kind.PROVINCE])
                    .only("kind", "name_fr", "name_ar", "region_id"), key=lambda c: c.name)
    return [(region, [p for p in places if p.region_id == region.pk])
            for region in places if region.kind == Collectivity.Kind.REGION]


def certifications_for(dossier):
    return list(dossier.certifications.order_by("round"))


def recent_cmr_events(user, limit=10):
    return list(Event.objects.filter(dossier__in=dossiers_for(user).values("pk"),
                                     action__in=list(STAGE_TRANSITION.values()))
                .select_related("dossier__kind", "dossier__affiliate").order_by("-at")[:limit])


def approaching_without_dossier(user, *, limit=10):
    """Affiliates reaching the age limit within 12 months who have no dossier yet (cancelled ones aside):
    an anti-join on the dossiers' affiliate index (``NOT EXISTS``), not a list of every dossier."""
    has_dossier = Dossier.objects.filter(affiliate_id=OuterRef("pk")).exclude(state=State.CANCELLED)
    return list(approaching_age_limit(user).filter(~Exists(has_dossier))[:limit])


def changes_after_signing(document) -> list:
    """The changes its signature allows that a document's file shows after the officer's signature
    (a later signature, a filled field, a comment...), as labels in the reader's language."""
    report = document.report or {}
    index = report.get("signer_index")
    if index is None:
        return []
    try:
        signature = VerificationReport.from_dict(report).signatures[index]
    except (KeyError, ValueError, TypeError, IndexError):
        return []
    return list(signature.change_labels)


def officers_of(collectivity) -> list[User]:
    """The collectivity's own officers who can act today (active, activated), by name: whom the dossier
    page names as able to take a step (``dossiers.transitions.next_step``)."""
    return list(activated(User.objects.filter(collectivity=collectivity, is_active=True))
                .exclude(role__in=office_roles()).order_by("full_name", "pk"))


def office_roles() -> list[str]:
    """The roles whose accounts act for the communes of their province (the provincial offices)."""
    return [role for role, rule in ROLES.items() if Capability.ACT_FOR_COMMUNE in rule.capabilities]


def provincial_offices_of(province) -> list[User]:
    """The provincial office's accounts of a prefecture or province that can act today (active, activated)."""
    return list(activated(User.objects.filter(collectivity=province, is_active=True, role__in=office_roles()))
                .order_by("full_name", "pk"))


def second_certifier_candidates(dossier: Dossier) -> list[User]:
    """Whom the dossier's council may name its second certifier: its other officers and, for a commune, its
    provincial office's accounts, active and activated, holding the right to certify; not the submitter.
    (``dossiers.transitions.second_certifier_problems`` says why anyone else may not be named.)"""
    places = Q(collectivity_id=dossier.collectivity_id) & ~Q(role__in=office_roles())
    collectivity = dossier.collectivity
    if collectivity.kind == Collectivity.Kind.COMMUNE and collectivity.province_id:
        places |= Q(collectivity_id=collectivity.province_id, role__in=office_roles())
    accounts = activated(User.objects.filter(places, is_active=True)).exclude(pk=dossier.submitted_by_id or 0)
    return [u for u in accounts.select_related("collectivity").order_by("full_name", "pk")
            if can(u, Capability.CERTIFY_DOSSIERS)]


# --- opening ---------------------------------------------------------------------------------------

def opening_facts(affiliate: Affiliate, kind: DossierKind, *, parent: Dossier | None = None,
                  on: date | None = None) -> rules.Opening:
    """What the opening rules (``dossiers.rules``) read about this affiliate, kind and earlier dossier."""
    on = on or timezone.localdate()
    return rules.Opening(
        kind=kind.code, kind_offered=kind.is_active, on=on,
        in_activity=affiliate.status == Affiliate.Status.ACTIVE, status_label=affiliate.get_status_display(),
        deceased=affiliate.status == Affiliate.Status.DECEASED, sex=affiliate.sex,
        periods=tuple(p.as_rule() for p in affiliate.periods.all()),
        stop=counting_stop(affiliate, on=on),  # as on the situation page: nothing after the age limit or the end
        open_dossier_of_kind=Dossier.objects.filter(affiliate=affiliate, kind=kind).exclude(
            state__in=sorted(CLOSED)).exists(),
        earlier=rules.EarlierDossier(same_affiliate=parent.affiliate_id == affiliate.pk, state=parent.state)
        if parent is not None else None,
    )


def opening_problems(affiliate: Affiliate, kind: DossierKind, *, parent: Dossier | None = None,
                     on: date | None = None) -> list:
    """Why this kind of dossier cannot be opened for this affiliate now (empty: it can)."""
    return rules.opening_problems(opening_facts(affiliate, kind, parent=parent, on=on))
