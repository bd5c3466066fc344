"""The civil pensions regime (law 011-71 as amended by laws 71-14 and 72-14) as pure functions.

No ORM, no I/O: plain dates and dataclasses in, plain dataclasses out, so the same code serves the
situation page, the API, the dossiers and the tests.

Every figure of the law is a row of ``PARAMETERS`` with its source, how sure we are of it
(H: official page or two sources agree; M: one reliable source; L: indirect) and the date it
takes effect. A corrected figure is a one-line change there, and a computation made for an
earlier date keeps using the figure in force then (``parameter(key, on)``). See PENSION_RULES.md.

Conventions. The two marked "no source found" are choices of the project, not of the law: they are
parameters of certainty L (``CONVENTIONS``) and the situation page and the API show them as not
verified.
- A period runs from its first day to its last day, both included. Service "as of" a date counts
  the days strictly before that date: on the morning of ``on`` the affiliate has completed it.
- Service is counted one way, whatever the number of periods (parameter ``service_counting``, no
  source found): every month counts 30 days and a year 360. Days 1 to 30 of a month count one day
  each, the 31st counts nothing, and the last day of February counts up to the 30th (28 February
  counts 3 days, or 29 February 2 days in a leap year). In practice each date has a day number,
  ``day_number(d) = (12 * year + month - 1) * 30 + day - 1`` (the 31st has the number of the next
  month's 1st), and a span from ``start`` (included) to ``end`` (excluded) counts
  ``day_number(end) - day_number(start)`` days, written in years of 360 days, months of 30 and days
  (fewer than 30). The count of a span is the sum of the counts of any cut of it into adjacent
  pieces: one period or the same career split in ten give the same total, the same verdict and the
  same threshold date. Days covered by several counting periods count once.
- Nothing is counted from the stop on (``CountingStop``): the age limit (or the extension granted),
  or the day after the end of service (death, leaving, retirement). An affiliate who is not in
  activity and whose end of service is not recorded is counted up to the date of the computation,
  and the reasoning says the end is unknown.
- Ages are calendar ages (``add_ymd``), not counted service. A birthday on the 29th, 30th or 31st
  (parameter ``month_end_birthday_rule``, no source found): an age reached in a month without that
  day is reached on that month's last day (born on 31 August, 60 years 6 months on the last day of
  February; born on 29 February, 63 years on 28 February in a year without one).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# --- parameters ---

H, M, L = "H", "M", "L"

LAW_011_71 = _("Law 011-71 of 30 December 1971 (civil pensions regime), bdj.mmsp.gov.ma document 193")
LAW_71_14 = _("Law 71-14 amending law 011-71 (BO 6495 bis, 30 August 2016)")
LAW_72_14 = _("Law 72-14 on the age limit (BO 6495 bis, 30 August 2016)")
REFORM_DATE = date(2017, 1, 1)  # first day the reformed annuity rates and thresholds apply (M)
NO_SOURCE = _("No source found: a convention chosen by the project")


@dataclass(frozen=True)
class Parameter:
    key: str
    value: Any
    effective_from: date
    source: str
    certainty: str  # H, M or L
    note: str = ""
    part_not_found: bool = False  # a part of the rule (a phase-in, a transition) was not found

    @property
    def unverified(self) -> bool:
        return self.certainty == L or self.source is NO_SOURCE or self.part_not_found

    @property
    def label(self) -> str:
        """What the figure is, in the reader's language (never its key)."""
        return str(PARAMETER_LABELS.get(self.key, self.key))

    @property
    def shown_value(self) -> str:
        """The figure as the reader's language writes it: a rate in per cent, an amount in dirhams,
        a duration in years, months and days."""
        return _shown_figure(self.key, self.value)


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
        _("60 for everyone before the reform"),
    ),
    Parameter("age_limit_schedule", _AGE_LIMIT_LAW_72_14, REFORM_DATE, LAW_72_14, H),
    Parameter(
        "age_limit_research_professor", (65, 0), REFORM_DATE, LAW_72_14, H, _("research professors")
    ),
    Parameter(
        "month_end_birthday_rule",
        "last_day_of_month",
        date(1972, 1, 1),
        NO_SOURCE,
        L,
        _(
            "Ages: a birthday on the 29th, 30th or 31st gives, in a month without that day, an age "
            "reached on that month's last day (born on 31 August: 60 years 6 months on the last day "
            "of February)."
        ),
    ),
    # Article 4: service required for early (proportional) retirement, (years, months, days).
    Parameter(
        "early_min_service_men",
        (21, 0, 0),
        date(1972, 1, 1),
        LAW_011_71,
        L,
        _("commonly quoted figure before the reform"),
    ),
    Parameter("early_min_service_men", (24, 0, 0), REFORM_DATE, LAW_71_14, M),
    Parameter(
        "early_min_service_women",
        (15, 0, 0),
        date(1972, 1, 1),
        LAW_011_71,
        L,
        _("commonly quoted figure before the reform"),
    ),
    Parameter("early_min_service_women", (18, 0, 0), REFORM_DATE, LAW_71_14, M),
    Parameter(
        "early_min_service_invalidity",
        (0, 0, 0),
        date(1972, 1, 1),
        LAW_011_71,
        M,
        _("no minimum for retirement for invalidity"),
    ),
    Parameter(
        "service_counting",
        "30_day_months",
        date(1972, 1, 1),
        NO_SOURCE,
        L,
        _(
            "Service: every month counts 30 days and a year 12 months; days 1 to 30 count one day "
            "each, the 31st counts nothing, the last day of February counts up to the 30th. A career "
            "counts the same in one period or in several."
        ),
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
        _("last salary subject to contribution"),
    ),
    Parameter(
        "reference_salary_months",
        96,
        REFORM_DATE,
        LAW_71_14,
        M,
        _("average of the last 96 months; the 4-year phase-in was not found"),
        part_not_found=True,
    ),
    # Cap.
    Parameter(
        "pension_cap_ratio",
        Decimal("1.00"),
        date(1972, 1, 1),
        LAW_011_71,
        L,
        _("unverified: the whole reference salary (a hundred per cent) is quoted; 40 annuities before the reform"),
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
        _("rising one point a year from 2017"),
    ),
)


PARAMETER_LABELS = {
    "age_limit_schedule": _("age limit by year of birth"),
    "age_limit_research_professor": _("age limit of research professors"),
    "month_end_birthday_rule": _("birthdays at the end of a month"),
    "early_min_service_men": _("service required for early retirement (men)"),
    "early_min_service_women": _("service required for early retirement (women)"),
    "early_min_service_invalidity": _("service required for retirement for invalidity"),
    "service_counting": _("counting of service"),
    "annuity_rate_before_2017": _("annuity rate per year of service before 2017"),
    "annuity_rate_from_2017": _("annuity rate per year of service from 2017"),
    "early_annuity_rate_before_2017": _("early-retirement annuity rate per year before 2017"),
    "early_annuity_rate_from_2017": _("early-retirement annuity rate per year from 2017"),
    "reference_salary_months": _("reference salary"),
    "pension_cap_ratio": _("pension cap, as a share of the reference salary"),
    "minimum_pension": _("minimum pension a month"),
    "contribution_rates": _("contribution rates (employee, employer)"),
}


def _percent(rate: Decimal) -> str:
    return str(_("%(rate)s %%")) % {"rate": number_format((rate * 100).normalize(), decimal_pos=None)}


def _shown_figure(key: str, value) -> str:
    if key == "reference_salary_months":
        return ngettext("the last salary", "the average of the last %(n)d months", value) % {"n": value}
    if key == "minimum_pension":
        return str(_("%(amount)s DH")) % {"amount": number_format(value, 2, force_grouping=True)}
    if isinstance(value, Decimal):
        return _percent(value)
    if key == "contribution_rates":
        return " + ".join(_percent(rate) for rate in value)
    if isinstance(value, tuple) and len(value) == 3 and all(isinstance(v, int) for v in value):
        return _format_ymd(YMD(*value))
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return _format_ymd(YMD(value[0], value[1], 0))
    if key == "age_limit_schedule":
        return str(_("by year of birth (see the table)"))
    if key == "service_counting":
        return str(_("30-day months"))
    if key == "month_end_birthday_rule":
        return str(_("the month's last day"))
    return str(value)


# The conventions the project chose where no source was found: listed with every situation.
CONVENTIONS = ("service_counting", "month_end_birthday_rule")


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
            % {"first": date_format(ASSESSABLE_FROM), "last": date_format(ASSESSABLE_UNTIL)})
    return on


def parameter(key: str, on: date) -> Parameter:
    """The row of ``key`` in force on ``on`` (the latest whose effective date is not after it)."""
    rows = [p for p in PARAMETERS if p.key == key and p.effective_from <= on]
    if not rows:
        raise UnknownParameter(f"no parameter {key!r} in force on {on.isoformat()}")
    return max(rows, key=lambda p: p.effective_from)


def conventions(on: date) -> tuple[Parameter, ...]:
    """The counting conventions in force on ``on`` (each a parameter with its source and certainty)."""
    return tuple(parameter(key, on) for key in CONVENTIONS)


# --- durations ---


@dataclass(frozen=True, order=True)
class YMD:
    """A length of service in years, months and days (normalised: months < 12, days < 30)."""

    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def shown(self) -> str:
        """"2 years, 1 month and 0 days" in the reader's language (``str()`` is the compact "2y 1m 0d")."""
        return _format_ymd(self)

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
        return YMD.from_days360(self.days360 + other.days360)

    def __sub__(self, other: YMD) -> YMD:
        return YMD.from_days360(self.days360 - other.days360)

    def __str__(self) -> str:
        return f"{self.years}y {self.months}m {self.days}d"

    def as_dict(self) -> dict:
        return {"years": self.years, "months": self.months, "days": self.days}


def add_ymd(start: date, years: int = 0, months: int = 0, days: int = 0) -> date:
    """``start`` plus a calendar length; a day that does not exist becomes the month's last day.

    For ages (``age_reached_on``) and calendar months, never for counting service.
    """
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=days)


def day_number(day: date) -> int:
    """The rank of ``day`` on the service counting scale (parameter ``service_counting``).

    30 numbers a month: days 1 to 30 are 0 to 29 in their month, and the 31st has the number of the
    next month's 1st (it counts nothing); the number jumps from the last day of February to 1 March,
    so that day counts up to the 30th. A span counts the difference of the numbers of its ends.
    """
    return (day.year * 12 + day.month - 1) * 30 + day.day - 1


def first_day_numbered(number: int) -> date:
    """The first date whose ``day_number`` is at least ``number`` (``day_number``'s inverse)."""
    months, rest = divmod(number, 30)
    year, month = months // 12, months % 12 + 1
    first = date(year, month, 1)
    if rest == 0:
        previous = first - timedelta(days=1)  # a 31st has the number of the 1st that follows it
        return previous if previous.day == 31 else first
    last = calendar.monthrange(year, month)[1]
    if rest < last:
        return first + timedelta(days=rest)
    return date(year, month, last) + timedelta(days=1)  # past the end of February: 1 March


def service_length(start: date, end_exclusive: date) -> YMD:
    """The service counted from ``start`` (included) to ``end_exclusive`` (excluded).

    Months of 30 days (``day_number``): additive by construction, so the length of a span is the sum
    of the lengths of any cut of it into adjacent spans.
    """
    if end_exclusive <= start:
        return YMD()
    return YMD.from_days360(day_number(end_exclusive) - day_number(start))


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
    def age(self) -> str:
        """"63 years", "62 years and 6 months" in the reader's language."""
        years = ngettext("%(n)d year", "%(n)d years", self.age_years) % {"n": self.age_years}
        if not self.age_months:
            return years
        months = ngettext("%(n)d month", "%(n)d months", self.age_months) % {"n": self.age_months}
        return str(_("%(years)s and %(months)s")) % {"years": years, "months": months}

    @property
    def retirement_on(self) -> date:
        """The age limit, or the extension granted on request (entered as data)."""
        return max(self.reached_on, self.extended_until) if self.extended_until else self.reached_on


def age_reached_on(birth_date: date, years: int, months: int = 0) -> date:
    """The day a person born on ``birth_date`` reaches ``years`` and ``months`` of age.

    A calendar age. Born on the 29th, 30th or 31st: in a month without that day, the age is reached
    on the month's last day, e.g. on 28 February for a 29 February birthday in a year without one
    (parameter ``month_end_birthday_rule``).
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


# --- where counting stops ---

STOP_AGE_LIMIT = "age_limit"
STOP_END_OF_SERVICE = "end_of_service"
STOP_END_UNKNOWN = "end_unknown"  # not in activity, no end recorded: the date of the computation


@dataclass(frozen=True)
class CountingStop:
    """The first day no service is counted: the earliest of the age limit (with its extension), the
    day after the end of service and, for an affiliate not in activity whose end is not recorded,
    the date of the computation."""

    until: date  # excluded
    cause: str  # STOP_AGE_LIMIT, STOP_END_OF_SERVICE or STOP_END_UNKNOWN
    age_limit: AgeLimit
    service_ended_on: date | None = None  # the last day of service, when recorded
    end_unknown: bool = False  # not in activity and no end of service recorded


def counting_stop(
    limit: AgeLimit, *, on: date, active: bool, service_ended_on: date | None
) -> CountingStop:
    """Where counting stops for an affiliate whose age limit is ``limit``, computed on ``on``."""
    candidates = []  # on a tie the recorded end of service is the one named
    if service_ended_on is not None:
        candidates.append((service_ended_on + timedelta(days=1), STOP_END_OF_SERVICE))
    elif not active:
        candidates.append((on, STOP_END_UNKNOWN))
    candidates.append((limit.retirement_on, STOP_AGE_LIMIT))
    until, cause = min(candidates, key=lambda c: c[0])
    return CountingStop(
        until, cause, limit, service_ended_on, end_unknown=not active and service_ended_on is None
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
    length: YMD  # length up to the evaluation date (or the stop)
    counted: YMD  # what counted and no earlier line had counted (zero for a period that does not count)
    cumulative: YMD  # counted service at the end of this line
    future: bool = False  # starts after the evaluation date
    stopped_at: date | None = None  # the stop (excluded) when it cut this period short

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
        if self.stopped_at is not None and self.counted_until is None:
            return _(
                "%(kind)s: starts after the end of counting (age limit or end of service), not counted."
            ) % {"kind": label}
        if self.counts and self.stopped_at is not None:
            return _(
                "%(kind)s: counts as effective service up to %(date)s; nothing is counted after the "
                "age limit or the end of service."
            ) % {"kind": label, "date": date_format(self.counted_until)}
        if self.counts:
            return _("%(kind)s: counts as effective service.") % {"kind": label}
        return _("%(kind)s: does not count (no pay, no contribution).") % {"kind": label}


@dataclass(frozen=True)
class ServiceComputation:
    on: date
    lines: tuple[PeriodLine, ...]
    total: YMD  # counted
    not_counted: YMD  # days of periods that do not count, less the days a counting period covers
    until: date | None = None  # the stop (excluded), None when none was given


def _span(p: Period, cut: date | None) -> tuple[date, date | None]:
    """``p`` as a half-open span ``[start, end)`` clipped at ``cut`` (an end of None runs on)."""
    end = p.end + timedelta(days=1) if p.end is not None else cut
    if cut is not None and end is not None:
        end = min(end, cut)
    return p.start, end


def _union(spans) -> list[tuple[date, date | None]]:
    """Overlapping or adjacent spans merged, in order (a day is in the union once)."""
    merged: list[list] = []
    for start, end in sorted(spans, key=lambda s: s[0]):
        if end is not None and end <= start:
            continue
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            if merged[-1][1] is not None and (end is None or end > merged[-1][1]):
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _measure(spans) -> int:
    """The days (30-day months) of the union of finite ``spans``."""
    return sum(day_number(end) - day_number(start) for start, end in _union(spans))


def effective_service(
    periods: list[Period], *, on: date, until: date | None = None
) -> ServiceComputation:
    """Effective service completed on the morning of ``on``, period by period.

    Nothing is counted from ``until`` (excluded: the stop, see ``CountingStop``) on. The count is
    ``service_counting``'s: a day covered by several counting periods counts once, and a day of a
    period that does not count is "not counted" only if no counting period covers it.
    """
    cut = min(on, until) if until is not None else on
    lines, counting, others = [], [], []
    measured = 0
    for p in sorted(periods, key=lambda p: p.start):
        counts = period_counts(p.kind)
        future = p.start >= on
        start, end = _span(p, cut)
        started = not future and end > start
        stopped = (
            cut < on and not future and (p.end is None or p.end + timedelta(days=1) > cut)
        )
        length = service_length(start, end) if started else YMD()
        if counts and started:
            counting.append((start, end))
            now = _measure(counting)
            counted, measured = YMD.from_days360(now - measured), now
        else:
            counted = YMD()
            if started:
                others.append((start, end))
        lines.append(
            PeriodLine(
                p.start,
                p.end,
                p.kind,
                counts,
                end - timedelta(days=1) if started else None,
                length,
                counted,
                YMD.from_days360(measured),
                future,
                cut if stopped else None,
            )
        )
    excluded = _measure(counting + others) - measured
    return ServiceComputation(
        on, tuple(lines), YMD.from_days360(measured), YMD.from_days360(excluded), until
    )


def threshold_reached_on(
    periods: list[Period], threshold: YMD, *, until: date | None = None
) -> tuple[date | None, bool]:
    """The first day on which counted service reaches ``threshold``, and whether it is projected.

    The first ``D`` with ``effective_service(periods, on=D, until=until).total >= threshold``,
    found by inverting the count (``first_day_numbered``). A running period (no end) is assumed to go
    on up to ``until`` (never beyond), so a date reached through it is a projection. Returns
    ``(None, False)`` when the periods do not reach the threshold before ``until``.
    """
    if threshold.days360 == 0:
        starts = [p.start for p in periods]
        return (min(starts) if starts else None), False
    needed = threshold.days360
    counting = [p for p in periods if period_counts(p.kind)]
    for start, end in _union(_span(p, until) for p in counting):
        available = None if end is None else day_number(end) - day_number(start)
        if available is None or available >= needed:
            day = first_day_numbered(day_number(start) + needed)
            last = day - timedelta(days=1)  # the day that completes the threshold
            recorded = any(p.end is not None and p.start <= last <= p.end for p in counting)
            return day, not recorded
        needed -= available
    return None, False


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
    stop: CountingStop | None = None

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
    sex: str,
    periods: list[Period],
    *,
    on: date,
    invalidity: bool = False,
    stop: CountingStop | None = None,
) -> Eligibility:
    """Article 4: may this affiliate retire early on ``on``? With the computation that says why.

    With ``stop`` (``CountingStop``) nothing is counted from the age limit or the end of service
    on, and no date beyond it is projected.
    """
    param = required_service(sex, on=on, invalidity=invalidity)
    required = YMD(*param.value)
    until = stop.until if stop is not None else None
    service = effective_service(periods, on=on, until=until)
    eligible = service.total >= required
    reached, projected = threshold_reached_on(periods, required, until=until)
    projected = projected and reached is not None and reached > on  # a past date is a fact
    if eligible and reached is not None and reached > on:  # no minimum (invalidity), a later start
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
                "on": date_format(on),
                "total": _format_ymd(service.total),
                "excluded": _format_ymd(service.not_counted),
            }
        )
    )
    reasoning += _stop_lines(stop, on)
    if eligible:
        reasoning.append(str(_("The requirement is met: eligible for early retirement.")))
        if reached is not None:
            reasoning.append(
                str(_("The requirement was met on %(date)s.") % {"date": date_format(reached)})
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
            reasoning.append(str(msg % {"date": date_format(reached)}))
        elif (
            stop is not None
            and stop.cause != STOP_END_UNKNOWN
            and threshold_reached_on(periods, required)[0] is not None
        ):  # the periods would reach it, but only after the stop
            msg = (
                _("The recorded periods never reach the requirement before the age limit (%(date)s).")
                if stop.cause == STOP_AGE_LIMIT
                else _(
                    "The recorded periods never reach the requirement before the end of service "
                    "(%(date)s)."
                )
            )
            reasoning.append(str(msg % {"date": date_format(_stop_day(stop))}))
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
        stop,
    )


def _stop_day(stop: CountingStop) -> date:
    """The day named for a stop: the age limit's day, or the last day of service."""
    return stop.until if stop.cause == STOP_AGE_LIMIT else stop.until - timedelta(days=1)


def _stop_lines(stop: CountingStop | None, on: date) -> list[str]:
    """What the reasoning says about the stop: an unknown end always, a stop only if it cut."""
    lines = []
    if stop is None:
        return lines
    if stop.end_unknown:
        lines.append(
            str(
                _(
                    "The end of service (death, leaving or retirement) is not recorded: service is "
                    "counted up to the date of the computation at the latest, and may include days "
                    "after the real end."
                )
            )
        )
    if stop.until < on and stop.cause == STOP_AGE_LIMIT:
        lines.append(
            str(
                _("Service is counted up to the age limit, reached on %(date)s: nothing after it.")
                % {"date": date_format(stop.until)}
            )
        )
    elif stop.until < on and stop.cause == STOP_END_OF_SERVICE:
        lines.append(
            str(
                _("Service is counted up to the end of service, on %(date)s: nothing after it.")
                % {"date": date_format(_stop_day(stop))}
            )
        )
    return lines


def _format_ymd(value: YMD) -> str:
    """"2 years, 1 month and 0 days" in the reader's language, each unit agreed with its number."""
    return str(_("%(years)s, %(months)s and %(days)s")) % {
        "years": ngettext("%(n)d year", "%(n)d years", value.years) % {"n": value.years},
        "months": ngettext("%(n)d month", "%(n)d months", value.months) % {"n": value.months},
        "days": ngettext("%(n)d day", "%(n)d days", value.days) % {"n": value.days},
    }


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


def estimate_pension(
    periods: list[Period],
    salaries: list[Salary],
    *,
    retirement_on: date,
    early: bool = False,
    until: date | None = None,
) -> Estimate:
    """Estimate the monthly pension if the affiliate retires on ``retirement_on``.

    Running periods are assumed to go on until then, never beyond ``until`` (the stop, see
    ``CountingStop``). The service before 2017 is the service completed on 1 January 2017, the
    service from 2017 the rest: the two add up to the total. The reference salary is the average of
    the last 96 months (no phase-in applied, it was not found), the annuities 2.5 % (2 % early) a
    year of service before 2017 and 2 % (1.5 % early) from 2017,
    capped and floored by the table's figures.
    """
    on = retirement_on
    used = []
    total = effective_service(periods, on=on, until=until).total
    s_before = effective_service(periods, on=min(on, REFORM_DATE), until=until).total
    s_after = total - s_before
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
                    _("Unverified figure: %(label)s, %(value)s (%(note)s).")
                    % {"label": p.label, "value": p.shown_value, "note": p.note or p.source}
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
    sex: str,
    periods: list[Period],
    *,
    on: date,
    loss_of_rights: bool = False,
    stop: CountingStop | None = None,
) -> bool:
    """A member leaving without the minimum service may ask for the refund of his deductions (M).

    The service is counted as for article 4, up to ``stop``.
    """
    if loss_of_rights:
        return False
    required = YMD(*required_service(sex, on=on).value)
    until = stop.until if stop is not None else None
    return effective_service(periods, on=on, until=until).total < required
