"""Reads of the affiliate registry. Every queryset starts from ``affiliates_for(user)``, which
filters through ``accounts.selectors.visible_collectivities``: nothing outside the account's scope
is ever found, and a direct id outside it answers 404."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from accounts.models import Collectivity
from accounts.permissions import Capability, can
from accounts.selectors import visible_collectivities

from . import rules
from .identifiers import InvalidQuery, Query, closeness, fold, parse_query, query_word_keys
from .models import (
    Affiliate,
    CorrectionRequest,
    FamilyMember,
    FieldChange,
    SalaryRecord,
    ServicePeriod,
)

PAGE_SIZE = 25
MAX_NAME_RESULTS = 200  # a name search ranks the closest matches; refine the query beyond that

def can_consult(user) -> bool:
    return can(user, Capability.CONSULT_AFFILIATES)


def require_consult(user) -> None:
    if not can_consult(user):
        raise PermissionDenied(_("Your account may not consult the affiliate registry."))


def affiliates_for(user) -> QuerySet[Affiliate]:
    """The affiliates ``user`` may see: those of his visible collectivities, and only those."""
    return Affiliate.objects.filter(collectivity__in=visible_collectivities(user))


# --- search ---

_LIST_FIELDS = (
    "id",
    "affiliation_number",
    "ppr",
    "cin",
    "last_name_fr",
    "first_name_fr",
    "last_name_ar",
    "first_name_ar",
    "sex",
    "birth_date",
    "status",
    "collectivity__id",
    "collectivity__code",
    "collectivity__name_fr",
    "collectivity__name_ar",
    "collectivity__kind",
)


@dataclass
class SearchResult:
    query: Query | None
    error: str | None
    page: Page | None
    truncated: bool = False  # a name search that hit MAX_NAME_RESULTS

    @property
    def results(self):
        return list(self.page.object_list) if self.page else []


def _by_keys(qs: QuerySet[Affiliate], query: Query) -> QuerySet[Affiliate]:
    """Every query word shares a key with a word of the name (``identifiers.name_keys``): the same
    name however it is spelled, give or take typing slips. PostgreSQL: array overlap on the keys'
    GIN index; elsewhere (SQLite, ``make run``) the same test as a regular expression."""
    for keys in query_word_keys(query.value):
        if connection.vendor == "postgresql":
            qs = qs.filter(
                RawSQL(
                    "string_to_array(affiliates_affiliate.search_keys, ' ') && %s::text[]",
                    (keys,),
                    output_field=BooleanField(),
                )
            )
        else:
            alternatives = "|".join(map(re.escape, keys))
            qs = qs.filter(search_keys__regex=rf"(^| )({alternatives})( |$)")
    return qs


def _ranked_by_name(qs: QuerySet[Affiliate], query: Query, *, fuzzy: bool) -> QuerySet[Affiliate]:
    """Name matches, closest first (pg_trgm similarity: the exact full name first), then by name and
    id for stable pages.

    First the name keys; with ``fuzzy``, pg_trgm's ``%`` operator on its GIN index instead (on
    SQLite, every word as a substring), for what the keys miss (a partial word, two letters changed
    in a short one).
    """
    column = "search_ar" if query.script == "ar" else "search_fr"
    if connection.vendor != "postgresql":
        if fuzzy:  # SQLite: every word as a substring (a partial name)
            for token in query.value.split():
                qs = qs.filter(**{f"{column}__contains": token})
        else:
            qs = _by_keys(qs, query)
        return qs.order_by(column, "id")
    qs = qs.filter(**{f"{column}__trigram_similar": query.value}) if fuzzy else _by_keys(qs, query)
    return qs.annotate(rank=TrigramSimilarity(column, query.value)).order_by("-rank", column, "id")


def _in_model_order(model, names) -> list[str]:
    """``names`` in the order of ``model``'s columns: ``Model.from_db`` reads a partial row in that
    order, whatever order the names are given in (a row in another order puts values in the wrong
    fields: the collectivity's id as the status, the Arabic name as the French one)."""
    return [f.attname for f in model._meta.concrete_fields if f.attname in set(names)]


_AFF_COLUMNS = _in_model_order(Affiliate, [f for f in _LIST_FIELDS if "__" not in f] + ["collectivity_id"])
_COLL_COLUMNS = _in_model_order(Collectivity, ["id", "code", "name_fr", "name_ar", "kind"])


def _by_identifier_pg(user, query: Query) -> list[Affiliate]:
    """The exact lookup, the registry's hot path, on PostgreSQL: the same filter as the ORM path
    (the identifier, and the collectivity among ``visible_collectivities(user)``, compiled from
    that selector), written as SQL: the ORM's compiler cost half of the 5 ms budget."""
    try:
        scope_sql, scope_params = visible_collectivities(user).values("pk").query.sql_with_params()
    except EmptyResultSet:  # an account that sees no collectivity finds nobody
        return []
    if query.kind == "cin":
        where, params = "a.cin = %s", [query.value]
    else:
        where, params = "(a.affiliation_number = %s OR a.ppr = %s)", [query.value, query.value]
    columns = ", ".join([f"a.{c}" for c in _AFF_COLUMNS] + [f"c.{c}" for c in _COLL_COLUMNS])
    sql = (
        f"SELECT {columns} FROM affiliates_affiliate a "  # noqa: S608 - constant names, bound values
        f"JOIN accounts_collectivity c ON c.id = a.collectivity_id "
        f"WHERE {where} AND a.collectivity_id IN ({scope_sql}) ORDER BY a.id LIMIT 10"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *scope_params])
        found = cursor.fetchall()
    n = len(_AFF_COLUMNS)
    results = []
    for row in found:
        affiliate = Affiliate.from_db(connection.alias, _AFF_COLUMNS, row[:n])
        affiliate.collectivity = Collectivity.from_db(connection.alias, _COLL_COLUMNS, row[n:])
        results.append(affiliate)
    return results


def search_affiliates(user, raw_query, *, page=1, page_size=PAGE_SIZE) -> SearchResult:
    """One box: an affiliation number, PPR or CIN finds the person; a name finds close matches.

    Raises ``PermissionDenied`` without the consult capability. A query that cannot run returns a
    ``SearchResult`` whose ``error`` says what to type. One SQL query for an identifier (the
    capability check reads nothing); two for a name (the visible collectivities, the matches),
    three when the name keys found nothing (the fuzzy pass).
    """
    require_consult(user)
    try:
        query = parse_query(raw_query)
    except InvalidQuery as exc:
        return SearchResult(None, str(exc.message), None)
    if query.kind in ("number", "cin") and connection.vendor == "postgresql":
        rows = _by_identifier_pg(user, query)
        return SearchResult(query, None, Paginator(rows, page_size).get_page(page))
    qs = affiliates_for(user).select_related("collectivity").only(*_LIST_FIELDS)
    if query.kind == "number":
        qs = qs.filter(Q(affiliation_number=query.value) | Q(ppr=query.value)).order_by("id")
    elif query.kind == "cin":
        qs = qs.filter(cin=query.value).order_by("id")
    else:
        # The visible collectivities as a list of ids (one small query): with a sub-select the
        # planner repeats the name index scan once per collectivity (a provincial office's 12
        # communes: 12 scans); with a list, one scan intersected with the employer index.
        visible = list(visible_collectivities(user).values_list("pk", flat=True))
        qs = base = (
            Affiliate.objects.filter(collectivity_id__in=visible)
            .select_related("collectivity")
            .only(*_LIST_FIELDS)
        )
        qs = _ranked_by_name(qs, query, fuzzy=False)
    rows = list(qs[:MAX_NAME_RESULTS])
    if not rows and query.kind == "name":
        rows = list(_ranked_by_name(base, query, fuzzy=True)[:MAX_NAME_RESULTS])
    if query.kind == "name":  # the database's order (trigrams) refined by the names' closeness
        arabic = query.script == "ar"
        rows.sort(key=lambda a: closeness(query.value, fold(a.full_name_ar if arabic else a.full_name_fr)))
    paginator = Paginator(rows, page_size)
    return SearchResult(query, None, paginator.get_page(page), len(rows) >= MAX_NAME_RESULTS)


# --- the situation ---


def get_affiliate(user, pk) -> Affiliate:
    """One affiliate in scope with everything the situation page shows, or 404.

    Fixed number of queries: the affiliate with its employer, then periods, salaries, family,
    corrections and registry changes (one query each).
    """
    require_consult(user)
    qs = (
        affiliates_for(user)
        .select_related("collectivity", "collectivity__province")
        .prefetch_related(
            Prefetch("periods", queryset=ServicePeriod.objects.order_by("start")),
            Prefetch("salaries", queryset=SalaryRecord.objects.order_by("start")),
            Prefetch("family", queryset=FamilyMember.objects.order_by("relation", "birth_date")),
            Prefetch(
                "corrections",
                queryset=CorrectionRequest.objects.select_related(
                    "requested_by", "decided_by"
                ).order_by("-requested_at", "-id"),
            ),
            Prefetch("changes", queryset=FieldChange.objects.select_related("changed_by")),
        )
    )
    return get_object_or_404(qs, pk=pk)


def get_affiliate_light(user, pk) -> Affiliate:
    """One affiliate in scope (no related rows), or 404."""
    require_consult(user)
    return get_object_or_404(affiliates_for(user).select_related("collectivity"), pk=pk)


@dataclass
class Situation:
    affiliate: Affiliate
    on: date
    age_limit: rules.AgeLimit
    service: rules.ServiceComputation
    eligibility: rules.Eligibility
    estimate_at_age_limit: rules.Estimate
    estimate_early: rules.Estimate | None
    stop: rules.CountingStop
    conventions: tuple[rules.Parameter, ...] = ()

    @property
    def months_to_age_limit(self) -> int:
        d = self.age_limit.retirement_on
        return (d.year - self.on.year) * 12 + d.month - self.on.month


def counting_stop(affiliate: Affiliate, *, on: date) -> rules.CountingStop:
    """Where counting ``affiliate``'s service stops for a computation on ``on``: his age limit (with
    the extension granted), the day after his recorded end of service, or, not in activity with no
    end recorded, ``on`` itself. The one place the situation, the estimates and the dossiers
    (article 4, refund) take it from."""
    limit = rules.age_limit(
        affiliate.birth_date,
        on=on,
        research_professor=affiliate.research_professor,
        extended_until=affiliate.age_limit_extended_until,
    )
    return rules.counting_stop(
        limit,
        on=on,
        active=affiliate.status == Affiliate.Status.ACTIVE,
        service_ended_on=affiliate.service_ended_on,
    )


def situation(
    affiliate: Affiliate, *, on: date | None = None, invalidity: bool = False
) -> Situation:
    """What the law says about ``affiliate`` on ``on``: reads only prefetched rows."""
    on = on or date.today()
    periods = [p.as_rule() for p in affiliate.periods.all()]
    salaries = [s.as_rule() for s in affiliate.salaries.all()]
    stop = counting_stop(affiliate, on=on)
    limit = stop.age_limit
    eligibility = rules.early_retirement_eligibility(
        affiliate.sex, periods, on=on, invalidity=invalidity, stop=stop
    )
    at_limit = rules.estimate_pension(
        periods, salaries, retirement_on=max(limit.retirement_on, on), until=stop.until
    )
    early = (
        rules.estimate_pension(periods, salaries, retirement_on=on, early=True, until=stop.until)
        if eligibility.eligible and stop.until > on  # still in service, below the age limit
        else None
    )
    return Situation(
        affiliate,
        on,
        limit,
        eligibility.service,
        eligibility,
        at_limit,
        early,
        stop,
        rules.conventions(on),
    )


# --- correction requests ---


def corrections_for(user) -> QuerySet[CorrectionRequest]:
    """The correction requests ``user`` may see: those about affiliates of his visible collectivities
    (every one for the CMR, whose scope is national; one collectivity for an API token narrowed to
    it), if he answers corrections or consults the registry; nobody else any."""
    qs = CorrectionRequest.objects.select_related(
        "affiliate", "affiliate__collectivity", "requested_by", "decided_by"
    )
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if not (can(user, Capability.ANSWER_CORRECTIONS) or can_consult(user)):
        return qs.none()
    return qs.filter(affiliate__collectivity__in=visible_collectivities(user))


def get_correction(user, pk) -> CorrectionRequest:
    return get_object_or_404(corrections_for(user).prefetch_related("changes"), pk=pk)


def correction_queue(user, *, status: str | None = CorrectionRequest.Status.PENDING, affiliate=None):
    """The requests ``user`` may see, of one status (None: all), of one affiliate if given: pending ones
    oldest first (the CMR's queue), others newest first."""
    qs = corrections_for(user)
    if status:
        qs = qs.filter(status=status)
    if affiliate is not None:
        qs = qs.filter(affiliate=affiliate)
    return qs.order_by("requested_at", "id") if status == "pending" else qs


# --- reminders ---


def approaching_age_limit(user, *, on: date | None = None, months: int = 12) -> QuerySet[Affiliate]:
    """Active affiliates in scope who reach their age limit (or the end of their extension)
    within ``months`` of ``on``, soonest first: the CMR asks HR to start a year ahead."""
    on = on or date.today()
    end = rules.add_ymd(on, months=months)
    window = Q()
    schedule = rules.parameter("age_limit_schedule", on).value
    previous_upto = None
    for upto, years, extra_months in schedule:
        first_birth = rules.add_ymd(on, -years, -extra_months)
        last_birth = rules.add_ymd(end, -years, -extra_months)
        row = Q(birth_date__gte=first_birth, birth_date__lte=last_birth, research_professor=False)
        if previous_upto is not None:
            row &= Q(birth_date__year__gt=previous_upto)
        if upto is not None:
            row &= Q(birth_date__year__lte=upto)
        window |= row
        previous_upto = upto
    years, extra_months = rules.parameter("age_limit_research_professor", on).value
    window |= Q(
        research_professor=True,
        birth_date__gte=rules.add_ymd(on, -years, -extra_months),
        birth_date__lte=rules.add_ymd(end, -years, -extra_months),
    )
    return (
        affiliates_for(user)
        .filter(status=Affiliate.Status.ACTIVE)
        .filter(
            (window & Q(age_limit_extended_until__isnull=True))
            | Q(age_limit_extended_until__gte=on, age_limit_extended_until__lte=end)
        )
        .select_related("collectivity")
        .order_by("birth_date", "id")
    )


# --- the privacy officer (law 09-08) ---

def person_for_privacy_report(user, identifier=None, *, pk=None) -> Affiliate | None:
    """The affiliate a privacy officer asks about, in every collectivity (his report is about who saw
    this person): by an identifier typed in the filter (affiliation number, PPR or CIN), or by his id
    (the report's address), never one for the other. None if there is none."""
    if not can(user, Capability.AUDIT_READS):
        raise PermissionDenied(_("Your account may not read the audit trail."))
    people = affiliates_for(user).select_related("collectivity")  # a privacy officer's scope is national
    if pk is not None:
        return people.filter(pk=pk).first()
    text = str(identifier or "").strip().upper()
    if not text or len(text) > 40:
        return None
    return people.filter(Q(affiliation_number=text) | Q(ppr=text) | Q(cin=text)).order_by("pk").first()
