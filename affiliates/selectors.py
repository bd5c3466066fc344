"""Reads of the affiliate registry. Every queryset starts from ``affiliates_for(user)``, which
filters through ``accounts.selectors.visible_collectivities``: nothing outside the account's scope
is ever found, and a direct id outside it answers 404."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, F, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate, Length
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Capability, can
from accounts.selectors import scoped
from eretraite.db import reading_from_replica

from . import rules
from .identifiers import (
    InvalidQuery,
    Query,
    QueryWord,
    closeness,
    closeness_of_word,
    pair,
    parse_query,
    parse_query_words,
)
from .models import (
    Affiliate,
    CorrectionRequest,
    FamilyMember,
    FieldChange,
    NameKey,
    NameWord,
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
    return scoped(Affiliate.objects.all(), user)


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


MAX_FORMS_PER_WORD = 400  # the lexicon's forms one query word may mean, the closest kept
_LEXICON_ROWS = 3000  # read from the lexicon for one word before keeping the closest


def _bearing(qs: QuerySet[Affiliate], forms) -> QuerySet[Affiliate]:
    """The people who bear one of ``forms`` (``identifiers.search_words``). PostgreSQL: array overlap
    on the forms' GIN index (its statistics count even the rare pairs: migration 0007); elsewhere
    (SQLite, ``make run``) the same test as a regular expression."""
    forms = sorted(forms)
    if connection.vendor == "postgresql":
        return qs.filter(
            RawSQL(
                "string_to_array(affiliates_affiliate.search_words, ' ') && %s::text[]",
                (forms,),
                output_field=BooleanField(),
            )
        )
    return qs.filter(search_words__regex=rf"(^| )({'|'.join(map(re.escape, forms))})( |$)")


def _lexicon_forms(word: QueryWord) -> list[str]:
    """The forms of the lexicon a query word may mean, the closest first: those whose keys meet its
    keys (a spelling variant, a slip or two: an index-only scan of the keys) and those it begins (a
    partial word: a pattern index); failing both, those whose trigrams are like its own, of about its
    length (PostgreSQL; elsewhere, those that contain it): what the keys miss, such as two slips in a
    short word."""
    meets = NameKey.objects.filter(key__in=word.keys).values_list("form_id", flat=True)
    if word.prefix:
        meets = meets.union(NameWord.objects.filter(form__startswith=word.prefix).values_list("form", flat=True))
    found = list(meets[:_LEXICON_ROWS])
    if not found:
        like = word.forms[0]
        fuzzy = NameWord.objects.annotate(size=Length("form")).filter(size__range=(len(like) - 2, len(like) + 2))
        if connection.vendor == "postgresql":
            fuzzy = fuzzy.filter(form__trigram_similar=like)
        else:
            fuzzy = fuzzy.filter(form__contains=like)
        found = list(fuzzy.values_list("form", flat=True)[:_LEXICON_ROWS])
    return sorted(set(found), key=lambda form: (-closeness_of_word(word.word, form), len(form), form))[
        :MAX_FORMS_PER_WORD
    ]


MAX_PAIRS = 4000  # pair tokens asked for two neighbouring query words; beyond, each word on its own


def _bearing_all(qs: QuerySet[Affiliate], choices: list[list[str]]) -> QuerySet[Affiliate]:
    """The people who bear, for every query word, one of its forms (``choices``, one list per word):
    two neighbouring words through the pairs of forms borne together (``identifiers.search_words``:
    short lists), a lone word, or two with too many forms between them, through single forms."""
    if len(choices) == 1:
        return _bearing(qs, choices[0])
    for first, second in zip(choices, choices[1:], strict=False):
        if len(first) * len(second) <= MAX_PAIRS:
            qs = _bearing(qs, {a if a == b else pair(a, b) for a in first for b in second})
        else:
            qs = _bearing(_bearing(qs, first), second)
    return qs


def _name_matches(qs: QuerySet[Affiliate], query: Query) -> list[tuple[int, str]]:
    """Up to ``MAX_NAME_RESULTS`` people a name query may mean, as (id, folded name in the query's
    script), fetched best tier first so that a common name's exact matches are never crowded out by
    its neighbours:

    1. the folded full name as typed, or its beginning ("fassi moh"), in the order of the folded
       name's index in the "C" collation (the country's, or the collectivity's);
    2. people bearing, for every query word, one of its own forms (the same name, however spelled);
    3. people bearing, for every query word, one of the lexicon's forms it may mean (slips, a
       partial word).

    Constant number of queries: one per tier, and one per query word for the lexicon.
    """
    column = "search_ar" if query.script == "ar" else "search_fr"
    found: list[tuple[int, str]] = []

    def take(tier: QuerySet[Affiliate]) -> None:
        # Always a page of MAX_NAME_RESULTS, those already found dropped here: asked for "the 3 more not
        # among these 197", PostgreSQL read the whole table in order (it expected 3 soon; there were none).
        seen = {pk for pk, _name in found}
        for match in tier.values_list("pk", column)[:MAX_NAME_RESULTS]:
            if len(found) >= MAX_NAME_RESULTS:
                break
            if match[0] not in seen:
                found.append(match)

    # in the order of the name's "C" index (migration 0007): the first 200 are read, not all sorted
    by_name = qs.annotate(name_c=Collate(column, "C")) if connection.vendor == "postgresql" else qs.annotate(
        name_c=F(column))
    take(by_name.filter(name_c__startswith=query.value).order_by("name_c", "id"))
    words = parse_query_words(query.value)
    if not words or len(found) >= MAX_NAME_RESULTS:
        return found
    take(_bearing_all(qs, [list(word.forms) for word in words]))
    if len(found) >= MAX_NAME_RESULTS:
        return found
    choices = []
    for word in words:
        forms = _lexicon_forms(word)
        if not forms:
            return found
        choices.append(forms)
    take(_bearing_all(qs, choices))
    return found


@reading_from_replica()
def search_affiliates(user, raw_query, *, page=1, page_size=PAGE_SIZE) -> SearchResult:
    """One box: an affiliation number, PPR or CIN finds the person; a name finds close matches,
    closest first (``identifiers.closeness``: the exact full name first).

    Raises ``PermissionDenied`` without the consult capability. A query that cannot run returns a
    ``SearchResult`` whose ``error`` says what to type. One SQL query for an identifier (the
    capability check and the scope read nothing: a national account's filter is empty); for a name,
    at most one per tier and one per word (``_name_matches``).
    """
    require_consult(user)
    try:
        query = parse_query(raw_query)
    except InvalidQuery as exc:
        return SearchResult(None, str(exc.message), None)
    qs = affiliates_for(user)
    rows = qs.select_related("collectivity").only(*_LIST_FIELDS)
    if query.kind == "number":
        found = list(rows.filter(Q(affiliation_number=query.value) | Q(ppr=query.value)).order_by("id")[:10])
    elif query.kind == "cin":
        found = list(rows.filter(cin=query.value).order_by("id")[:10])
    else:
        # Ranked on (id, name) pairs, then only the page's people read whole (one query by id).
        matches = _name_matches(qs.order_by(), query)
        matches.sort(key=lambda match: (closeness(query.value, match[1]), match[0]))
        shown = Paginator([pk for pk, _name in matches], page_size).get_page(page)
        people = rows.in_bulk(list(shown.object_list))
        shown.object_list = [people[pk] for pk in shown.object_list if pk in people]
        return SearchResult(query, None, shown, len(matches) >= MAX_NAME_RESULTS)
    return SearchResult(query, None, Paginator(found, page_size).get_page(page))


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
    return scoped(qs, user, "affiliate__collectivity")


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
