"""The civil pensions regime (law 011-71 as amended by laws 71-14 and 72-14) as pure functions.

No ORM, no I/O: plain dates and dataclasses in, plain dataclasses out, so the same code serves the
situation page, the API, the dossiers and the tests.

Every figure of the law is a row of ``PARAMETERS`` with its source, how sure we are of it
(H: official page or two sources agree; M: one reliable source; L: indirect) and the date it
takes effect. A corrected figure is a one-line change there, and a computation made for an
earlier date keeps using the figure in force then (``parameter(key, on)``). See PENSION_RULES.md.

Conventions (also parameters below):
- A period runs from its first day to its last day, both included. Service "as of" a date counts
  the days strictly before that date: on the morning of ``on`` the affiliate has completed it.
- A period's length is counted in calendar years, months and days; totals are carried with months
  of 30 days and years of 12 months (the administration's usual counting).
- An age reached from a 29 February birthday in a year without one is reached on 28 February.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

# --- parameters ---

H, M, L = "H", "M", "L"

LAW_011_71 = "Law 011-71 of 30 December 1971 (civil pensions regime), bdj.mmsp.gov.ma document 193"
LAW_71_14 = "Law 71-14 amending law 011-71 (BO 6495 bis, 30 August 2016)"
LAW_72_14 = "Law 72-14 on the age limit (BO 6495 bis, 30 August 2016)"
REFORM_DATE = date(2017, 1, 1)  # first day the reformed annuity rates and thresholds apply (M)


@dataclass(frozen=True)
class Parameter:
    key: str
    value: Any
    effective_from: date
    source: str
    certainty: str  # H, M or L
    note: str = ""

    @property
    def unverified(self) -> bool:
        return self.certainty == L or "not found" in self.note


# (birth year up to and including, years, months); the last row has no upper bound (None).
_AGE_LIMIT_BEFORE_REFORM = ((None, 60, 0),)
_AGE_LIMIT_LAW_72_14 = (
    (1956, 60, 0),
    (1957, 60, 6),
    (1958, 61, 0),
    (1959, 61, 6),
    (1960, 62, 0),
    (1961, 62, 6),
    (None, 63, 0),
)

PARAMETERS: tuple[Parameter, ...] = (
    # Age limit, by year of birth.
    Parameter(
        "age_limit_schedule",
        _AGE_LIMIT_BEFORE_REFORM,
        date(1972, 1, 1),
        LAW_011_71,
        M,
        "60 for everyone before the reform",
    ),
    Parameter("age_limit_schedule", _AGE_LIMIT_LAW_72_14, REFORM_DATE, LAW_72_14, H),
    Parameter(
        "age_limit_research_professor", (65, 0), REFORM_DATE, LAW_72_14, H, "enseignants-chercheurs"
    ),
    Parameter(
        "feb29_birthday_rule",
        "last_day_of_month",
        date(1972, 1, 1),
        "Usual counting of terms in months (no identical day: last day of the month)",
        L,
    ),
    # Article 4: service required for early (proportional) retirement, (years, months, days).
    Parameter(
        "early_min_service_men",
        (21, 0, 0),
        date(1972, 1, 1),
        LAW_011_71,
        L,
        "commonly quoted figure before the reform",
    ),
    Parameter("early_min_service_men", (24, 0, 0), REFORM_DATE, LAW_71_14, M),
    Parameter(
        "early_min_service_women",
        (15, 0, 0),
        date(1972, 1, 1),
        LAW_011_71,
        L,
        "commonly quoted figure before the reform",
    ),
    Parameter("early_min_service_women", (18, 0, 0), REFORM_DATE, LAW_71_14, M),
    Parameter(
        "early_min_service_invalidity",
        (0, 0, 0),
        date(1972, 1, 1),
        LAW_011_71,
        M,
        "no minimum for retirement for invalidity",
    ),
    Parameter(
        "service_counting",
        "months_of_30_days",
        date(1972, 1, 1),
        "Administrative practice (12 months of 30 days)",
        L,
    ),
    # Annuities, per year of service, by the period in which the service was rendered.
    Parameter("annuity_rate_before_2017", Decimal("0.025"), date(1972, 1, 1), LAW_011_71, M),
    Parameter("annuity_rate_from_2017", Decimal("0.02"), REFORM_DATE, LAW_71_14, M),
    Parameter("early_annuity_rate_before_2017", Decimal("0.02"), date(1972, 1, 1), LAW_011_71, M),
    Parameter("early_annuity_rate_from_2017", Decimal("0.015"), REFORM_DATE, LAW_71_14, M),
    # Reference salary.
    Parameter(
        "reference_salary_months",
        1,
        date(1972, 1, 1),
        LAW_011_71,
        M,
        "last salary subject to contribution",
    ),
    Parameter(
        "reference_salary_months",
        96,
        REFORM_DATE,
        LAW_71_14,
        M,
        "average of the last 96 months; the 4-year phase-in was not found",
    ),
    # Cap.
    Parameter(
        "pension_cap_ratio",
        Decimal("1.00"),
        date(1972, 1, 1),
        LAW_011_71,
        L,
        "unverified: 100 % of the reference salary is quoted; 40 annuities before the reform",
    ),
    # Minimum pension, a month.
    Parameter("minimum_pension", Decimal("1350"), date(2017, 1, 1), LAW_71_14, H),
    Parameter("minimum_pension", Decimal("1500"), date(2018, 1, 1), LAW_71_14, H),
    # Contributions (employee, employer).
    Parameter(
        "contribution_rates", (Decimal("0.10"), Decimal("0.10")), date(1972, 1, 1), LAW_011_71, H
    ),
    Parameter(
        "contribution_rates",
        (Decimal("0.14"), Decimal("0.14")),
        date(2019, 1, 1),
        LAW_71_14,
        H,
        "rising one point a year from 2017",
    ),
)


class UnknownParameter(LookupError):
    pass


# The dates the law can be applied on: from the oldest parameter of the table to a horizon no career
# reaches. A date outside is refused where it is read (the page's "computed on", the API's ``on``).
ASSESSABLE_FROM = min(p.effective_from for p in PARAMETERS)
ASSESSABLE_UNTIL = date(2100, 12, 31)


class InvalidAssessmentDate(ValueError):
    pass


def assessment_date(text: str | None) -> date | None:
    """The date ``text`` names (YYYY-MM-DD), or None for "today"; a date the table cannot answer for, or
    no date at all, is refused with a message saying which dates can be asked."""
    if not text:
        return None
    try:
        on = date.fromisoformat(text)
    except ValueError:
        on = None
    if on is None or not ASSESSABLE_FROM <= on <= ASSESSABLE_UNTIL:
        raise InvalidAssessmentDate(
            _("The rights can be computed on a date from %(first)s to %(last)s, written YYYY-MM-DD.")
            % {"first": ASSESSABLE_FROM.isoformat(), "last": ASSESSABLE_UNTIL.isoformat()})
    return on


def parameter(key: str, on: date) -> Parameter:
    """The row of ``key`` in force on ``on`` (the latest whose effective date is not after it)."""
    rows = [p for p in PARAMETERS if p.key == key and p.effective_from <= on]
    if not rows:
        raise UnknownParameter(f"no parameter {key!r} in force on {on.isoformat()}")
    return max(rows, key=lambda p: p.effective_from)


# --- durations ---


@dataclass(frozen=True, order=True)
class YMD:
    """A length of service in years, months and days (normalised: months < 12, days < 30)."""

    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def of(cls, years=0, months=0, days=0) -> YMD:
        total = years * 360 + months * 30 + days
        return cls.from_days360(total)

    @classmethod
    def from_days360(cls, total: int) -> YMD:
        if total < 0:
            raise ValueError("negative duration")
        return cls(total // 360, (total % 360) // 30, total % 30)

    @property
    def days360(self) -> int:
        return self.years * 360 + self.months * 30 + self.days

    @property
    def in_years(self) -> Decimal:
        return (Decimal(self.days360) / Decimal(360)).quantize(Decimal("0.0001"))

    def __add__(self, other: YMD) -> YMD:
        """Lengths of different periods add up with days carried into 30-day months.

        Adding nothing changes nothing: one period of 17 years 11 months 30 days (the last
        month a 31-day one) stays short of 18 years, as the calendar says.
        """
        if not other.days360:
            return self
        if not self.days360:
            return other
        return YMD.from_days360(self.days360 + other.days360)

    def __sub__(self, other: YMD) -> YMD:
        return YMD.from_days360(self.days360 - other.days360)

    def __str__(self) -> str:
        return f"{self.years}y {self.months}m {self.days}d"

    def as_dict(self) -> dict:
        return {"years": self.years, "months": self.months, "days": self.days}


def add_ymd(start: date, years: int = 0, months: int = 0, days: int = 0) -> date:
    """``start`` plus a calendar length; a day that does not exist becomes the month's last day."""
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=days)


def calendar_length(start: date, end_exclusive: date) -> YMD:
    """The calendar years, months and days from ``start`` (included) to ``end_exclusive``.

    Days are the remainder after whole calendar months, so they may reach 30 in a 31-day month
    (kept as such: it is not a whole month); sums of periods carry days into 30-day months
    (``YMD.__add__``).
    """
    if end_exclusive <= start:
        return YMD()
    months = (end_exclusive.year - start.year) * 12 + end_exclusive.month - start.month
    if add_ymd(start, months=months) > end_exclusive:
        months -= 1
    anchor = add_ymd(start, months=months)
    days = (end_exclusive - anchor).days
    return YMD(months // 12, months % 12, days)


# --- age limit ---


@dataclass(frozen=True)
class AgeLimit:
    age_years: int
    age_months: int
    reached_on: date
    birth_year: int
    parameter: Parameter
    extended_until: date | None = None

    @property
    def retirement_on(self) -> date:
        """The age limit, or the extension granted on request (entered as data)."""
        return max(self.reached_on, self.extended_until) if self.extended_until else self.reached_on


def age_reached_on(birth_date: date, years: int, months: int = 0) -> date:
    """The day a person born on ``birth_date`` reaches ``years`` and ``months`` of age.

    Born on 29 February: in a year without one, the age is reached on 28 February
    (parameter ``feb29_birthday_rule``).
    """
    return add_ymd(birth_date, years=years, months=months)


def age_limit(
    birth_date: date,
    *,
    on: date | None = None,
    research_professor: bool = False,
    extended_until: date | None = None,
) -> AgeLimit:
    """The age limit of a person born on ``birth_date`` under the schedule in force on ``on``."""
    on = on or date.today()
    if research_professor:
        param = parameter("age_limit_research_professor", on)
        years, months = param.value
    else:
        param = parameter("age_limit_schedule", on)
        years, months = next(
            (y, m) for upto, y, m in param.value if upto is None or birth_date.year <= upto
        )
    return AgeLimit(
        years,
        months,
        age_reached_on(birth_date, years, months),
        birth_date.year,
        param,
        extended_until,
    )


# --- effective service ---

# Kinds of periods and whether they count as effective service (article 4 and the annuities).
EFFECTIVE = "effective"
SECONDMENT = "secondment"
BOUGHT_BACK = "bought_back"
UNPAID_LEAVE = "unpaid_leave"
DISPONIBILITE = "disponibilite"
SUSPENSION = "suspension"

PERIOD_KINDS = {
    EFFECTIVE: (True, _("Effective service")),
    SECONDMENT: (True, _("Secondment (détachement), with contributions")),
    BOUGHT_BACK: (True, _("Services bought back (validated)")),
    UNPAID_LEAVE: (False, _("Unpaid leave")),
    DISPONIBILITE: (False, _("Disponibilité (leave without pay)")),
    SUSPENSION: (False, _("Suspension")),
}


def period_counts(kind: str) -> bool:
    return PERIOD_KINDS[kind][0]


@dataclass(frozen=True)
class Period:
    start: date
    end: date | None  # last day included; None = still running
    kind: str


@dataclass(frozen=True)
class PeriodLine:
    """One period as counted on a given date."""

    start: date
    end: date | None
    kind: str
    counts: bool
    counted_until: date | None  # last day taken into account (None: nothing yet)
    length: YMD  # length up to the evaluation date
    counted: YMD  # what counted (zero for a period that does not count)
    cumulative: YMD  # counted service at the end of this line
    future: bool = False  # starts after the evaluation date

    @property
    def label(self):
        return PERIOD_KINDS[self.kind][1]

    @property
    def reason(self):
        label = PERIOD_KINDS[self.kind][1]
        if self.future:
            return _("%(kind)s: starts after the date of the computation, not counted yet.") % {
                "kind": label
            }
        if self.counts:
            return _("%(kind)s: counts as effective service.") % {"kind": label}
        return _("%(kind)s: does not count (no pay, no contribution).") % {"kind": label}


@dataclass(frozen=True)
class ServiceComputation:
    on: date
    lines: tuple[PeriodLine, ...]
    total: YMD  # counted
    not_counted: YMD


def effective_service(periods: list[Period], *, on: date) -> ServiceComputation:
    """Effective service completed on the morning of ``on``, period by period."""
    lines, total, excluded = [], YMD(), YMD()
    for p in sorted(periods, key=lambda p: p.start):
        counts = period_counts(p.kind)
        last_day = p.end if p.end is not None else on - timedelta(days=1)
        last_day = min(last_day, on - timedelta(days=1))
        future = p.start >= on
        length = YMD() if future else calendar_length(p.start, last_day + timedelta(days=1))
        counted = length if counts else YMD()
        total = total + counted
        if not counts:
            excluded = excluded + length
        lines.append(
            PeriodLine(
                p.start,
                p.end,
                p.kind,
                counts,
                None if future else last_day,
                length,
                counted,
                total,
                future,
            )
        )
    return ServiceComputation(on, tuple(lines), total, excluded)


def threshold_reached_on(periods: list[Period], threshold: YMD) -> tuple[date | None, bool]:
    """The first day on which counted service reaches ``threshold``, and whether it is projected.

    The date is found on the periods as entered; a running period (no end) is assumed to go on, so
    a date reached through it is a projection. Returns ``(None, False)`` when the periods
    never reach the threshold.
    """
    if threshold.days360 == 0:
        starts = [p.start for p in periods]
        return (min(starts) if starts else None), False
    cumulative = YMD()
    for p in sorted(periods, key=lambda p: p.start):
        if not period_counts(p.kind):
            continue
        remaining = threshold - cumulative if threshold > cumulative else YMD()
        candidate = add_ymd(p.start, remaining.years, remaining.months, remaining.days)
        if p.end is None or candidate <= p.end + timedelta(days=1):
            return _settle(periods, threshold, candidate), p.end is None
        cumulative = cumulative + calendar_length(p.start, p.end + timedelta(days=1))
    return None, False


def _settle(periods, threshold: YMD, candidate: date) -> date:
    """Move ``candidate`` to the first day ``effective_service`` itself reaches ``threshold``.

    Carrying days into 30-day months can complete a month a day or two before the calendar
    does (e.g. 30 days of a 31-day month): the date shown must agree with the count shown.
    """
    one = timedelta(days=1)
    for _step in range(62):
        if effective_service(periods, on=candidate - one).total >= threshold:
            candidate -= one
        elif effective_service(periods, on=candidate).total < threshold:
            candidate += one
        else:
            break
    return candidate


# --- article 4: early retirement ---

MALE, FEMALE = "M", "F"


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    on: date
    sex: str
    invalidity: bool
    required: YMD
    service: ServiceComputation
    reached_on: date | None  # the date the requirement is or was met
    reached_projected: bool  # True when that date assumes the running period goes on
    shortfall: YMD
    parameter: Parameter
    reasoning: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unverified_parameters(self) -> tuple[Parameter, ...]:
        return (self.parameter,) if self.parameter.unverified else ()


def required_service(sex: str, *, on: date, invalidity: bool = False) -> Parameter:
    if invalidity:
        return parameter("early_min_service_invalidity", on)
    if sex == FEMALE:
        return parameter("early_min_service_women", on)
    if sex == MALE:
        return parameter("early_min_service_men", on)
    raise ValueError(f"unknown sex {sex!r}")


def early_retirement_eligibility(
    sex: str, periods: list[Period], *, on: date, invalidity: bool = False
) -> Eligibility:
    """Article 4: may this affiliate retire early on ``on``? With the computation that says why."""
    param = required_service(sex, on=on, invalidity=invalidity)
    required = YMD(*param.value)
    service = effective_service(periods, on=on)
    eligible = service.total >= required
    reached, projected = threshold_reached_on(periods, required)
    projected = projected and reached is not None and reached > on  # a past date is a fact
    if eligible and reached is not None and reached > on:  # the periods say so only via projection
        reached, projected = None, False
    shortfall = YMD() if eligible else max(required - service.total, YMD(0, 0, 1))
    who = {MALE: _("men"), FEMALE: _("women")}[sex]
    reasoning = []
    if invalidity:
        reasoning.append(
            str(_("Retirement for invalidity: article 4 requires no minimum service."))
        )
    else:
        reasoning.append(
            str(
                _(
                    "Article 4 requires %(required)s of effective service for %(who)s "
                    "(%(source)s, certainty %(certainty)s)."
                )
                % {
                    "required": _format_ymd(required),
                    "who": who,
                    "source": param.source,
                    "certainty": param.certainty,
                }
            )
        )
    reasoning.append(
        str(
            _(
                "Effective service completed on %(on)s: %(total)s; periods that do not "
                "count: %(excluded)s."
            )
            % {
                "on": on.isoformat(),
                "total": _format_ymd(service.total),
                "excluded": _format_ymd(service.not_counted),
            }
        )
    )
    if eligible:
        reasoning.append(str(_("The requirement is met: eligible for early retirement.")))
        if reached is not None:
            reasoning.append(
                str(_("The requirement was met on %(date)s.") % {"date": reached.isoformat()})
            )
    else:
        reasoning.append(
            str(
                _("Missing: %(short)s. Not eligible on this date.")
                % {"short": _format_ymd(shortfall)}
            )
        )
        if reached is not None:
            msg = (
                _("If the current period goes on, the requirement will be met on %(date)s.")
                if projected
                else _("The requirement is met on %(date)s.")
            )
            reasoning.append(str(msg % {"date": reached.isoformat()}))
        else:
            reasoning.append(str(_("The recorded periods never reach the requirement.")))
    return Eligibility(
        eligible,
        on,
        sex,
        invalidity,
        required,
        service,
        reached,
        projected,
        shortfall,
        param,
        tuple(reasoning),
    )


def _format_ymd(value: YMD) -> str:
    return str(
        _("%(y)d years %(m)d months %(d)d days")
        % {"y": value.years, "m": value.months, "d": value.days}
    )


format_ymd = _format_ymd


# --- pension estimate ---


@dataclass(frozen=True)
class Salary:
    start: date  # from this month on
    monthly: Decimal


@dataclass(frozen=True)
class Estimate:
    """A pension estimate, never a promise: shown with its inputs and its unverified figures."""

    is_estimate: bool
    retirement_on: date
    early: bool
    service_before_2017: YMD
    service_from_2017: YMD
    reference_salary: Decimal | None
    reference_months: int
    rate_before_2017: Decimal
    rate_from_2017: Decimal
    gross_monthly: Decimal | None
    capped: bool
    minimum_applied: bool
    parameters: tuple[Parameter, ...]
    warnings: tuple[str, ...]

    @property
    def unverified_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.unverified)


def salary_on(salaries: list[Salary], day: date) -> Decimal | None:
    current = None
    for s in sorted(salaries, key=lambda s: s.start):
        if s.start <= day:
            current = s.monthly
        else:
            break
    return current


def reference_salary(
    salaries: list[Salary], retirement_on: date, months: int
) -> tuple[Decimal | None, int]:
    """The average monthly salary over the ``months`` months before ``retirement_on``.

    Returns the average and the number of months for which a salary was known.
    """
    values = []
    first_of_month = retirement_on.replace(day=1)
    for i in range(1, months + 1):
        value = salary_on(salaries, add_ymd(first_of_month, months=-i))
        if value is not None:
            values.append(value)
    if not values:
        return None, 0
    return (sum(values) / len(values)).quantize(Decimal("0.01"), ROUND_HALF_UP), len(values)


def _split_at(periods: list[Period], cut: date) -> tuple[list[Period], list[Period]]:
    before, after = [], []
    for p in periods:
        if p.start < cut:
            end = p.end if p.end is not None and p.end < cut else cut - timedelta(days=1)
            before.append(Period(p.start, end, p.kind))
        if p.end is None or p.end >= cut:
            after.append(Period(max(p.start, cut), p.end, p.kind))
    return before, after


def estimate_pension(
    periods: list[Period], salaries: list[Salary], *, retirement_on: date, early: bool = False
) -> Estimate:
    """Estimate the monthly pension if the affiliate retires on ``retirement_on``.

    Running periods are assumed to go on until then. The reference salary is the average of the
    last 96 months (no phase-in applied, it was not found), the annuities 2.5 % (2 % early) a
    year of service before 2017 and 2 % (1.5 % early) from 2017,
    capped and floored by the table's figures.
    """
    on = retirement_on
    used = []
    before, after = _split_at(periods, REFORM_DATE)
    s_before = effective_service(before, on=on).total
    s_after = effective_service(after, on=on).total
    prefix = "early_annuity_rate" if early else "annuity_rate"
    p_before = parameter(f"{prefix}_before_2017", on)
    p_after = parameter(f"{prefix}_from_2017", on) if on >= REFORM_DATE else p_before
    p_ref = parameter("reference_salary_months", on)
    p_cap = parameter("pension_cap_ratio", on)
    used += [p_before, p_after, p_ref, p_cap]
    warnings = [str(_("This is an estimate, not a decision: the CMR computes the pension."))]
    ref, known = reference_salary(salaries, on, p_ref.value)
    if ref is None:
        warnings.append(
            str(_("No salary is recorded before this date: no amount can be estimated."))
        )
        return Estimate(
            True,
            on,
            early,
            s_before,
            s_after,
            None,
            0,
            p_before.value,
            p_after.value,
            None,
            False,
            False,
            tuple(used),
            tuple(warnings),
        )
    if known < p_ref.value:
        warnings.append(
            str(
                _(
                    "Salaries are known for %(known)d of the %(months)d months of the "
                    "reference period; the average uses those only."
                )
                % {"known": known, "months": p_ref.value}
            )
        )
    ratio = p_before.value * s_before.in_years + p_after.value * s_after.in_years
    capped = ratio > p_cap.value
    ratio = min(ratio, p_cap.value)
    amount = (ref * ratio).quantize(Decimal("0.01"), ROUND_HALF_UP)
    minimum_applied = False
    try:
        p_min = parameter("minimum_pension", on)
    except UnknownParameter:
        p_min = None
    if p_min is not None:
        used.append(p_min)
        if amount < p_min.value:
            amount, minimum_applied = p_min.value, True
    for p in used:
        if p.unverified:
            warnings.append(
                str(
                    _("Unverified figure: %(key)s = %(value)s (%(note)s).")
                    % {"key": p.key, "value": p.value, "note": p.note or p.source}
                )
            )
    return Estimate(
        True,
        on,
        early,
        s_before,
        s_after,
        ref,
        p_ref.value,
        p_before.value,
        p_after.value,
        amount,
        capped,
        minimum_applied,
        tuple(used),
        tuple(warnings),
    )


# --- refund of contributions ---


def refund_possible(
    sex: str, periods: list[Period], *, on: date, loss_of_rights: bool = False
) -> bool:
    """A member leaving without the minimum service may ask for the refund of his deductions (M)."""
    if loss_of_rights:
        return False
    required = YMD(*required_service(sex, on=on).value)
    return effective_service(periods, on=on).total < required
