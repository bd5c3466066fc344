"""The law as code: table-driven tests of every threshold and transition (no database)."""

import calendar
import functools
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from affiliates import rules
from affiliates.rules import (
    BOUGHT_BACK,
    DISPONIBILITE,
    EFFECTIVE,
    FEMALE,
    MALE,
    SECONDMENT,
    SUSPENSION,
    UNPAID_LEAVE,
    YMD,
    Period,
    Salary,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("birth", "years", "months", "limit_on"),
    [
        (date(1956, 5, 10), 60, 0, date(2016, 5, 10)),
        (date(1956, 12, 31), 60, 0, date(2016, 12, 31)),
        (date(1957, 1, 1), 60, 6, date(2017, 7, 1)),
        (date(1957, 8, 31), 60, 6, date(2018, 2, 28)),  # no 31 February: last day of the month
        (date(1958, 3, 15), 61, 0, date(2019, 3, 15)),
        (date(1959, 3, 15), 61, 6, date(2020, 9, 15)),
        (date(1960, 3, 15), 62, 0, date(2022, 3, 15)),
        (date(1961, 6, 30), 62, 6, date(2023, 12, 30)),
        (date(1961, 12, 31), 62, 6, date(2024, 6, 30)),
        (date(1962, 1, 1), 63, 0, date(2025, 1, 1)),
        (date(1975, 7, 14), 63, 0, date(2038, 7, 14)),
        # 29 February birthdays.
        (date(1960, 2, 29), 62, 0, date(2022, 2, 28)),
        (date(1964, 2, 29), 63, 0, date(2027, 2, 28)),
        (date(1968, 2, 29), 63, 0, date(2031, 2, 28)),
        (date(1957, 2, 28), 60, 6, date(2017, 8, 28)),
        (date(1961, 8, 29), 62, 6, date(2024, 2, 29)),  # lands on a real 29 February
        (date(1972, 2, 29), 63, 0, date(2035, 2, 28)),
    ],
)
def test_age_limit_by_year_of_birth(birth, years, months, limit_on):
    limit = rules.age_limit(birth, on=TODAY)
    assert (limit.age_years, limit.age_months) == (years, months)
    assert limit.reached_on == limit_on
    assert limit.parameter.certainty == "H"


def test_age_limit_before_the_reform_was_60_for_everyone():
    assert rules.age_limit(date(1962, 1, 1), on=date(2016, 6, 1)).reached_on == date(2022, 1, 1)


def test_research_professors_and_extensions():
    assert rules.age_limit(date(1962, 1, 1), on=TODAY, research_professor=True).reached_on == date(
        2027, 1, 1
    )
    limit = rules.age_limit(date(1962, 1, 1), on=TODAY, extended_until=date(2027, 1, 1))
    assert limit.reached_on == date(2025, 1, 1) and limit.retirement_on == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("start", "end_exclusive", "expected"),
    [
        (date(2000, 1, 1), date(2001, 1, 1), YMD(1, 0, 0)),
        (date(2000, 1, 1), date(2000, 1, 31), YMD(0, 1, 0)),  # days 1-30 of January: a month
        (date(2000, 1, 1), date(2000, 1, 30), YMD(0, 0, 29)),
        (date(2000, 1, 31), date(2000, 2, 1), YMD()),  # the 31st counts nothing
        (date(2000, 1, 30), date(2000, 1, 31), YMD(0, 0, 1)),
        (date(2000, 1, 31), date(2000, 3, 1), YMD(0, 1, 0)),  # 31 January (0) and February (30)
        (date(2001, 2, 1), date(2001, 3, 1), YMD(0, 1, 0)),  # February counts 30 days
        (date(2001, 2, 28), date(2001, 3, 1), YMD(0, 0, 3)),  # 28 February counts the 28th to 30th
        (date(2000, 2, 28), date(2000, 3, 1), YMD(0, 0, 3)),  # leap year: 1 for the 28th, 2 for the 29th
        (date(2000, 2, 29), date(2000, 3, 1), YMD(0, 0, 2)),
        (date(2000, 2, 29), date(2001, 2, 28), YMD(0, 11, 29)),  # 2 + 11 months + 27 days
        (date(2000, 2, 29), date(2001, 3, 1), YMD(1, 0, 2)),  # 2 for 29 February 2000, then 12 months
        (date(2000, 3, 1), date(2000, 2, 1), YMD()),  # an empty span
        # The issue's example: 17 years 11 months 30 days by the calendar, 18 years counted.
        (date(2000, 1, 1), date(2017, 12, 31), YMD(18, 0, 0)),
    ],
)
def test_service_length(start, end_exclusive, expected):
    assert rules.service_length(start, end_exclusive) == expected


def test_day_numbers_and_their_inverse():
    assert rules.day_number(date(2000, 1, 31)) == rules.day_number(date(2000, 2, 1))
    assert rules.day_number(date(2001, 3, 1)) - rules.day_number(date(2001, 2, 28)) == 3
    day = date(1999, 11, 1)
    while day < date(2001, 4, 1):
        n = rules.day_number(day)
        for k in (n, n + 1):
            first = rules.first_day_numbered(k)
            assert rules.day_number(first) >= k > rules.day_number(first - timedelta(days=1))
        day += timedelta(days=1)
    assert rules.first_day_numbered(rules.day_number(date(2018, 1, 1))) == date(2017, 12, 31)
    assert rules.first_day_numbered(rules.day_number(date(2001, 2, 1)) + 28) == date(2001, 3, 1)
    assert rules.first_day_numbered(rules.day_number(date(2000, 2, 1)) + 28) == date(2000, 2, 29)


def test_ymd_arithmetic_is_plain_days360():
    assert YMD(1, 11, 20) + YMD(0, 0, 15) == YMD(2, 0, 5)
    assert YMD() + YMD(0, 0, 29) + YMD(0, 0, 1) == YMD(0, 1, 0)  # adding nothing is not special
    assert YMD(18, 0, 0) - YMD(17, 11, 29) == YMD(0, 0, 1)
    assert str(YMD(3, 2, 1)) == "3y 2m 1d"


@pytest.mark.parametrize(
    ("birth", "years", "months", "reached"),
    [
        (date(1970, 8, 31), 60, 6, date(2031, 2, 28)),
        (date(1970, 8, 30), 60, 6, date(2031, 2, 28)),
        (date(1970, 8, 29), 60, 6, date(2031, 2, 28)),
        (date(1971, 8, 29), 60, 6, date(2032, 2, 29)),  # a leap year has the 29th
        (date(1971, 8, 31), 60, 6, date(2032, 2, 29)),
        (date(1970, 5, 31), 60, 1, date(2030, 6, 30)),  # no 31 June
        (date(1970, 3, 31), 60, 6, date(2030, 9, 30)),
        (date(1964, 2, 29), 63, 0, date(2027, 2, 28)),
        (date(1970, 1, 30), 60, 0, date(2030, 1, 30)),
    ],
)
def test_an_age_from_the_29th_30th_or_31st_is_reached_on_the_months_last_day(birth, years, months, reached):
    assert rules.age_reached_on(birth, years, months) == reached
    rule = rules.parameter("month_end_birthday_rule", date(2026, 1, 1))
    assert rule.value == "last_day_of_month" and rule.certainty == "L"


# --- article 4 ---


def career(*spans):
    return [Period(s, e, k) for s, e, k in spans]


WOMAN_SINCE_2000 = career((date(2000, 1, 1), None, EFFECTIVE))


@pytest.mark.parametrize(
    ("sex", "periods", "on", "eligible", "total", "reached"),
    [
        # A woman at 17y11m29d, then at exactly 18y0m0d: on the morning of 31 December she has
        # completed the 30 days of December (the 31st counts nothing), so 18 years.
        (FEMALE, WOMAN_SINCE_2000, date(2017, 12, 30), False, YMD(17, 11, 29), date(2017, 12, 31)),
        (FEMALE, WOMAN_SINCE_2000, date(2017, 12, 31), True, YMD(18, 0, 0), date(2017, 12, 31)),
        (FEMALE, WOMAN_SINCE_2000, date(2018, 1, 1), True, YMD(18, 0, 0), date(2017, 12, 31)),
        (FEMALE, WOMAN_SINCE_2000, date(2025, 6, 1), True, YMD(25, 5, 0), date(2017, 12, 31)),
        # A man needs 24 years.
        (MALE, WOMAN_SINCE_2000, date(2023, 12, 30), False, YMD(23, 11, 29), date(2023, 12, 31)),
        (MALE, WOMAN_SINCE_2000, date(2024, 1, 1), True, YMD(24, 0, 0), date(2023, 12, 31)),
        # Unpaid leave crossing the threshold: it pushes the date back by its length (1 year):
        # 17 years to the end of 2016, the 12 months of 2018 on the morning of 31 December 2018.
        (
            FEMALE,
            career(
                (date(2000, 1, 1), date(2016, 12, 31), EFFECTIVE),
                (date(2017, 1, 1), date(2017, 12, 31), UNPAID_LEAVE),
                (date(2018, 1, 1), None, EFFECTIVE),
            ),
            date(2018, 6, 1),
            False,
            YMD(17, 5, 0),
            date(2018, 12, 31),
        ),
        (
            FEMALE,
            career(
                (date(2000, 1, 1), date(2016, 12, 31), EFFECTIVE),
                (date(2017, 1, 1), date(2017, 12, 31), UNPAID_LEAVE),
                (date(2018, 1, 1), None, EFFECTIVE),
            ),
            date(2018, 12, 31),
            True,
            YMD(18, 0, 0),
            date(2018, 12, 31),
        ),
        # Disponibilité and suspension do not count either.
        (
            MALE,
            career(
                (date(1998, 3, 1), date(2010, 2, 28), EFFECTIVE),
                (date(2010, 3, 1), date(2013, 2, 28), DISPONIBILITE),
                (date(2013, 3, 1), date(2013, 8, 31), SUSPENSION),
                (date(2013, 9, 1), None, EFFECTIVE),
            ),
            date(2025, 3, 1),
            False,
            YMD(23, 6, 0),  # 12 years to 28 February 2010, 11 years 6 months from September 2013
            date(2025, 8, 31),  # the 12 missing years from 1 September 2013, and 31 August counts nothing
        ),
        # Bought-back service counts, and lets the threshold be reached earlier.
        (FEMALE, WOMAN_SINCE_2000, date(2017, 6, 1), False, YMD(17, 5, 0), date(2017, 12, 31)),
        (
            FEMALE,
            career(
                (date(1995, 1, 1), date(1996, 12, 31), BOUGHT_BACK),
                (date(2000, 1, 1), None, EFFECTIVE),
            ),
            date(2017, 6, 1),
            True,
            YMD(19, 5, 0),
            date(2015, 12, 31),  # 2 years bought back, 16 from 2000: on the morning of 31 December 2015
        ),
        # A career that ended before the requirement: never reached.
        (
            MALE,
            career((date(2000, 1, 1), date(2009, 12, 31), EFFECTIVE)),
            date(2025, 1, 1),
            False,
            YMD(10, 0, 0),
            None,
        ),
    ],
)
def test_article_4(sex, periods, on, eligible, total, reached):
    result = rules.early_retirement_eligibility(sex, periods, on=on)
    assert result.eligible is eligible
    assert result.service.total == total
    assert result.reached_on == reached
    assert result.reasoning  # the verdict always explains itself


def test_before_the_reform_the_thresholds_were_lower_and_are_flagged_unverified():
    # On 2016-01-01 a woman needed 15 years (L): the bought-back case above is eligible then.
    result = rules.early_retirement_eligibility(FEMALE, WOMAN_SINCE_2000, on=date(2016, 1, 1))
    assert result.required == YMD(15, 0, 0) and result.eligible
    assert result.unverified_parameters == (result.parameter,)
    assert (
        rules.early_retirement_eligibility(FEMALE, WOMAN_SINCE_2000, on=TODAY).unverified_parameters
        == ()
    )


def test_invalidity_requires_no_service():
    result = rules.early_retirement_eligibility(
        MALE, career((date(2024, 1, 1), None, EFFECTIVE)), on=date(2024, 6, 1), invalidity=True
    )
    assert result.eligible and result.required == YMD()
    assert "invalidité" in result.reasoning[0]


def test_period_lines_show_what_counted():
    periods = career(
        (date(2000, 1, 1), date(2004, 12, 31), EFFECTIVE),
        (date(2005, 1, 1), date(2005, 6, 30), UNPAID_LEAVE),
        (date(2005, 7, 1), None, EFFECTIVE),
        (date(1990, 1, 1), date(1990, 12, 31), BOUGHT_BACK),
    )
    service = rules.effective_service(periods, on=date(2006, 7, 1))
    assert (
        rules.early_retirement_eligibility(FEMALE, periods, on=date(2006, 7, 1)).shortfall > YMD()
    )
    assert [line.kind for line in service.lines] == [
        BOUGHT_BACK,
        EFFECTIVE,
        UNPAID_LEAVE,
        EFFECTIVE,
    ]
    assert [line.counted for line in service.lines] == [YMD(1), YMD(5), YMD(), YMD(1)]
    assert service.lines[2].length == YMD(0, 6, 0) and not service.lines[2].counts
    assert service.total == YMD(7) and service.not_counted == YMD(0, 6)
    assert service.lines[-1].cumulative == YMD(7)
    assert "ne compte pas" in str(service.lines[2].reason)


def test_a_future_period_is_listed_but_not_counted():
    periods = career(
        (date(2000, 1, 1), date(2030, 12, 31), EFFECTIVE), (date(2031, 1, 1), None, UNPAID_LEAVE)
    )
    service = rules.effective_service(periods, on=date(2010, 1, 1))
    assert service.total == YMD(10) and service.lines[1].future


# --- parameters ---


def test_every_parameter_has_a_source_a_certainty_and_a_date():
    for p in rules.PARAMETERS:
        assert p.source and p.certainty in ("H", "M", "L") and p.effective_from


def test_the_conventions_say_they_have_no_source():
    found = rules.conventions(TODAY)
    assert [p.key for p in found] == ["service_counting", "month_end_birthday_rule"]
    for p in found:
        assert p.certainty == "L" and p.unverified and p.effective_from == date(1972, 1, 1)
        assert str(p.source) == str(rules.NO_SOURCE) and str(p.note)
    with pytest.raises(rules.UnknownParameter):
        rules.parameter("feb29_birthday_rule", TODAY)  # renamed: it covers the 29th, 30th and 31st


def test_parameters_follow_their_effective_dates():
    assert rules.parameter("minimum_pension", date(2017, 6, 1)).value == Decimal("1350")
    assert rules.parameter("minimum_pension", date(2018, 1, 1)).value == Decimal("1500")
    assert rules.parameter("early_min_service_men", date(2016, 12, 31)).value == (21, 0, 0)
    assert rules.parameter("early_min_service_men", date(2017, 1, 1)).value == (24, 0, 0)
    with pytest.raises(rules.UnknownParameter):
        rules.parameter("minimum_pension", date(2010, 1, 1))


# --- estimate ---


def test_estimate_splits_service_at_2017_and_flags_unverified_figures():
    periods = career((date(2007, 1, 1), None, EFFECTIVE))
    salaries = [
        Salary(date(2000, 1, 1), Decimal("8000")),
        Salary(date(2020, 1, 1), Decimal("10000")),
    ]
    est = rules.estimate_pension(periods, salaries, retirement_on=date(2027, 1, 1))
    assert est.is_estimate
    assert est.service_before_2017 == YMD(10) and est.service_from_2017 == YMD(10)
    # 96 months back from 2027 starts in January 2019: 12 months at 8,000 then 84 at 10,000.
    assert est.reference_salary == Decimal("9750.00")
    # 10 years at 2.5 % + 10 years at 2 % = 45 % of the reference salary.
    assert est.gross_monthly == Decimal("4387.50")
    assert any(p.key == "pension_cap_ratio" for p in est.unverified_parameters)
    assert any(p.key == "reference_salary_months" for p in est.unverified_parameters)
    assert any("estimation" in w for w in est.warnings)


def test_estimate_reference_salary_averages_96_months():
    salaries = [
        Salary(date(2000, 1, 1), Decimal("8000")),
        Salary(date(2026, 1, 1), Decimal("10000")),
    ]
    est = rules.estimate_pension(
        career((date(2000, 1, 1), None, EFFECTIVE)), salaries, retirement_on=date(2027, 1, 1)
    )
    assert est.reference_salary == ((Decimal(8000) * 84 + Decimal(10000) * 12) / 96).quantize(
        Decimal("0.01")
    )


def test_estimate_minimum_pension_and_early_rates():
    est = rules.estimate_pension(
        career((date(2020, 1, 1), None, EFFECTIVE)),
        [Salary(date(2020, 1, 1), Decimal("3000"))],
        retirement_on=date(2025, 1, 1),
        early=True,
    )
    assert est.rate_from_2017 == Decimal("0.015")
    assert est.minimum_applied and est.gross_monthly == Decimal("1500")


def test_estimate_cap():
    est = rules.estimate_pension(
        career((date(1970, 1, 1), date(2016, 12, 31), EFFECTIVE)),
        [Salary(date(1970, 1, 1), Decimal("9000"))],
        retirement_on=date(2017, 1, 1),
    )
    assert est.capped and est.gross_monthly == Decimal("9000.00")


def test_estimate_without_salary_says_so():
    est = rules.estimate_pension(WOMAN_SINCE_2000, [], retirement_on=date(2030, 1, 1))
    assert est.gross_monthly is None and len(est.warnings) == 2


def test_refund():
    assert rules.refund_possible(
        MALE, career((date(2000, 1, 1), date(2019, 12, 31), EFFECTIVE)), on=TODAY
    )
    assert not rules.refund_possible(
        FEMALE, career((date(2000, 1, 1), date(2019, 12, 31), EFFECTIVE)), on=TODAY
    )
    assert not rules.refund_possible(MALE, [], on=TODAY, loss_of_rights=True)


def test_a_date_already_passed_is_a_fact_a_future_one_a_projection():
    past = rules.early_retirement_eligibility(FEMALE, WOMAN_SINCE_2000, on=date(2019, 1, 1))
    future = rules.early_retirement_eligibility(FEMALE, WOMAN_SINCE_2000, on=date(2017, 1, 1))
    assert past.reached_on == future.reached_on == date(2017, 12, 31)
    assert not past.reached_projected and future.reached_projected
    assert "Si la période en cours se poursuit" in future.reasoning[-1]


def test_the_date_shown_agrees_with_the_count_shown():
    # The threshold date is the first day the count itself reaches the requirement, and the day
    # before it does not.
    periods = career(
        (date(2000, 1, 1), date(2009, 12, 31), EFFECTIVE),
        (date(2010, 1, 1), date(2010, 6, 30), UNPAID_LEAVE),
        (date(2010, 7, 1), None, EFFECTIVE),
    )
    for sex in (FEMALE, MALE):
        result = rules.early_retirement_eligibility(sex, periods, on=date(2020, 1, 1))
        day = result.reached_on
        required = result.required
        assert rules.effective_service(periods, on=day).total >= required
        assert rules.effective_service(periods, on=day - timedelta(days=1)).total < required


# --- one way of counting (issue 13): any cut of a career counts the same ---

COUNTING_KINDS = (EFFECTIVE, SECONDMENT, BOUGHT_BACK)
NOT_COUNTING_KINDS = (UNPAID_LEAVE, DISPONIBILITE, SUSPENSION)
ONE_DAY = timedelta(days=1)


@functools.cache
def month_end_days(first: date, last: date) -> tuple[date, ...]:
    """The awkward days between ``first`` and ``last``: 29th to 31st, the end of February, 1 March."""
    days, day = [], first.replace(day=1)
    while day <= last:
        last_of_month = calendar.monthrange(day.year, day.month)[1]
        days += [day.replace(day=d) for d in (28, 29, 30, 31) if d <= last_of_month]
        day = rules.add_ymd(day, months=1)
        days.append(day)  # the 1st of the next month
    return tuple(d for d in days if first <= d <= last)


def random_day(rnd, first: date, last: date) -> date:
    """A day in ``[first, last]``, one time in two one of the awkward ones."""
    awkward = month_end_days(first, last) if rnd.random() < 0.5 else []
    if awkward:
        return rnd.choice(awkward)
    return first + timedelta(days=rnd.randrange((last - first).days + 1))


def split(rnd, start: date, end: date | None, kinds=COUNTING_KINDS) -> list[Period]:
    """``[start, end]`` cut at random days into adjacent periods of random counting kinds."""
    last = end or start + timedelta(days=20 * 365)
    cuts = sorted({random_day(rnd, start + ONE_DAY, last) for _ in range(rnd.randrange(1, 12))} if last > start else ())
    cuts = [c for c in cuts if start < c <= last and (end is None or c <= end)]
    pieces, first = [], start
    for c in cuts:
        pieces.append(Period(first, c - ONE_DAY, rnd.choice(kinds)))
        first = c
    pieces.append(Period(first, end, rnd.choice(kinds)))
    return pieces


def random_career(rnd) -> tuple[list[Period], list[Period]]:
    """A career of counting spans (some with leave between them), as entered (one period a span)
    and cut at random days into adjacent periods of mixed counting kinds."""
    whole, cut = [], []
    day = random_day(rnd, date(1972, 1, 1), date(2005, 12, 31))
    for n in range(rnd.randrange(1, 4)):
        running = n == 2 or rnd.random() < 0.3
        end = None if running else random_day(rnd, day, day + timedelta(days=rnd.randrange(30, 12 * 365)))
        kind = rnd.choice(COUNTING_KINDS)
        whole.append(Period(day, end, kind))
        cut += split(rnd, day, end)
        if end is None:
            break
        leave_end = random_day(rnd, end + ONE_DAY, end + timedelta(days=rnd.randrange(2, 900)))
        leave = Period(end + ONE_DAY, leave_end, rnd.choice(NOT_COUNTING_KINDS))
        whole.append(leave)
        cut.append(leave)
        day = leave_end + ONE_DAY
    return whole, cut


def test_any_cut_of_a_career_gives_the_same_total_verdict_and_date():
    for seed in range(250):
        rnd = random.Random(seed)
        whole, cut = random_career(rnd)
        first = whole[0].start
        dates = [random_day(rnd, first, date(2040, 12, 31)) for _ in range(12)]
        dates += [first + timedelta(days=k) for k in (0, 1, 30, 31)]
        dates += month_end_days(date(2016, 1, 1), date(2017, 4, 1))
        until = rnd.choice([None, random_day(rnd, first, date(2045, 12, 31))])
        for on in dates:
            a = rules.effective_service(whole, on=on, until=until)
            b = rules.effective_service(cut, on=on, until=until)
            assert a.total == b.total and a.not_counted == b.not_counted, (seed, on, whole, cut)
            assert b.total == YMD() + sum((line.counted for line in b.lines), YMD())
        stop = None
        if until is not None:
            limit = rules.age_limit(date(1950, 1, 1), on=TODAY)
            stop = rules.CountingStop(until, rules.STOP_AGE_LIMIT, limit)
        for on in dates[:6]:
            for sex in (FEMALE, MALE):
                x = rules.early_retirement_eligibility(sex, whole, on=on, stop=stop)
                y = rules.early_retirement_eligibility(sex, cut, on=on, stop=stop)
                # (Whether a future date is "projected" may differ: a piece cut from a running period
                # has a recorded end, and a date inside it is not a projection.)
                assert (x.eligible, x.service.total, x.shortfall, x.reached_on) == (
                    y.eligible,
                    y.service.total,
                    y.shortfall,
                    y.reached_on,
                ), (seed, on, sex)
        for years in (15, 18, 21, 24):
            assert (
                rules.threshold_reached_on(whole, YMD(years), until=until)[0]
                == rules.threshold_reached_on(cut, YMD(years), until=until)[0]
            ), (seed, years)


def test_the_count_of_a_span_is_the_sum_of_the_counts_of_its_pieces():
    # Pieces of every kind, counting or not: what counts and what does not add up to the span, and
    # so do the lines' lengths (no union hides a count that is not additive).
    for seed in range(400):
        rnd = random.Random(5000 + seed)
        start = random_day(rnd, date(1972, 1, 1), date(2010, 12, 31))
        end = random_day(rnd, start, start + timedelta(days=rnd.randrange(1, 15 * 365)))
        pieces = split(rnd, start, end, kinds=COUNTING_KINDS + NOT_COUNTING_KINDS)
        for on in (end + ONE_DAY, random_day(rnd, start, end + ONE_DAY)):
            whole = rules.service_length(start, min(on, end + ONE_DAY))
            service = rules.effective_service(pieces, on=on)
            assert service.total + service.not_counted == whole, (seed, on, pieces)
            assert sum((line.length for line in service.lines), YMD()) == whole, (seed, on)
            assert sum((line.counted for line in service.lines), YMD()) == service.total


def test_the_issues_example_one_period_or_two_count_the_same():
    # 2000-01-01 to 2017-12-30: 17 years 11 months 30 days by the calendar (the last month a 31-day
    # one); as one period it showed 17y 11m 30d, split in two 18y 0m 0d. Now 18 years both ways.
    one = career((date(2000, 1, 1), date(2017, 12, 30), EFFECTIVE))
    two = career(
        (date(2000, 1, 1), date(2009, 6, 30), EFFECTIVE), (date(2009, 7, 1), date(2017, 12, 30), SECONDMENT)
    )
    on = date(2018, 6, 1)
    for periods in (one, two):
        assert rules.effective_service(periods, on=on).total == YMD(18, 0, 0)
        verdict = rules.early_retirement_eligibility(FEMALE, periods, on=on)
        assert verdict.eligible and verdict.reached_on == date(2017, 12, 31) and not verdict.reached_projected


def test_threshold_reached_on_is_the_first_day_the_count_reaches_it():
    far = date(2200, 1, 1)
    for seed in range(300):
        rnd = random.Random(1000 + seed)
        periods = []
        for _ in range(rnd.randrange(1, 6)):  # random periods, overlapping or not, some running
            start = random_day(rnd, date(1972, 1, 1), date(2030, 12, 31))
            end = None if rnd.random() < 0.2 else random_day(rnd, start, start + timedelta(days=rnd.randrange(1, 9000)))
            periods.append(Period(start, end, rnd.choice(COUNTING_KINDS + NOT_COUNTING_KINDS)))
        until = rnd.choice([None, random_day(rnd, date(1990, 1, 1), date(2060, 12, 31))])
        threshold = YMD.from_days360(rnd.randrange(1, 30 * 360))
        day, projected = rules.threshold_reached_on(periods, threshold, until=until)
        if day is None:
            assert rules.effective_service(periods, on=far, until=until).total < threshold, seed
            continue
        assert rules.effective_service(periods, on=day, until=until).total >= threshold, seed
        assert rules.effective_service(periods, on=day - ONE_DAY, until=until).total < threshold, seed
        assert until is None or day <= until, seed
        running = [p for p in periods if p.end is None and rules.period_counts(p.kind)]
        assert not projected or running, seed


def test_overlapping_periods_count_once():
    periods = career(
        (date(2000, 1, 1), date(2009, 12, 31), EFFECTIVE),
        (date(2005, 1, 1), date(2012, 12, 31), SECONDMENT),  # 2005-2009 already counted
        (date(2008, 1, 1), date(2014, 12, 31), UNPAID_LEAVE),  # only 2013-2014 are not counted
        (date(2006, 1, 1), date(2006, 12, 31), BOUGHT_BACK),  # inside the first period
    )
    service = rules.effective_service(periods, on=date(2020, 1, 1))
    assert service.total == YMD(13) and service.not_counted == YMD(2)
    assert [line.counted for line in service.lines] == [YMD(10), YMD(3), YMD(), YMD()]
    assert [line.length for line in service.lines] == [YMD(10), YMD(8), YMD(1), YMD(7)]
    assert service.lines[-1].cumulative == YMD(13)
    assert rules.threshold_reached_on(periods, YMD(12)) == (date(2011, 12, 31), False)


# --- nothing is counted after the age limit, death or leaving ---


def test_nothing_is_counted_after_the_age_limit():
    # Born 1963-06-01: 63 on 2026-06-01. Computed for 2030, the service stops at the limit.
    limit = rules.age_limit(date(1963, 6, 1), on=date(2030, 1, 1))
    stop = rules.counting_stop(limit, on=date(2030, 1, 1), active=True, service_ended_on=None)
    assert stop.until == date(2026, 6, 1) and stop.cause == rules.STOP_AGE_LIMIT
    periods = career((date(1993, 6, 1), None, EFFECTIVE))
    assert rules.effective_service(periods, on=date(2030, 1, 1)).total == YMD(36, 7)  # without a stop
    service = rules.effective_service(periods, on=date(2030, 1, 1), until=stop.until)
    assert service.total == YMD(33) and service.lines[0].counted_until == date(2026, 5, 31)
    assert service.lines[0].stopped_at == date(2026, 6, 1)
    verdict = rules.early_retirement_eligibility(MALE, periods, on=date(2030, 1, 1), stop=stop)
    assert verdict.service.total == YMD(33) and verdict.eligible
    assert any("1 juin 2026" in line for line in verdict.reasoning)
    est = rules.estimate_pension(periods, [Salary(date(1993, 1, 1), Decimal("9000"))],
                                 retirement_on=date(2030, 1, 1), until=stop.until)
    assert est.service_before_2017 + est.service_from_2017 == YMD(33)
    assert est.service_from_2017 == YMD(9, 5)


def test_an_extension_moves_the_stop():
    limit = rules.age_limit(date(1963, 6, 1), on=TODAY, extended_until=date(2027, 6, 1))
    stop = rules.counting_stop(limit, on=date(2030, 1, 1), active=True, service_ended_on=None)
    assert stop.until == date(2027, 6, 1)


def test_a_projection_never_goes_past_the_age_limit():
    # Born 1975: 63 on 2038-01-01. Recruited in 2020, a man would reach 24 years at the end of 2043.
    limit = rules.age_limit(date(1975, 1, 1), on=TODAY)
    stop = rules.counting_stop(limit, on=TODAY, active=True, service_ended_on=None)
    periods = career((date(2020, 1, 1), None, EFFECTIVE))
    assert rules.threshold_reached_on(periods, YMD(24)) == (date(2043, 12, 31), True)
    verdict = rules.early_retirement_eligibility(MALE, periods, on=TODAY, stop=stop)
    assert not verdict.eligible and verdict.reached_on is None and not verdict.reached_projected
    assert "1 janvier 2038" in verdict.reasoning[-1]
    # A woman needs 18 years: reached at the end of 2037, before the limit, as a projection.
    verdict = rules.early_retirement_eligibility(FEMALE, periods, on=TODAY, stop=stop)
    assert verdict.reached_on == date(2037, 12, 31) and verdict.reached_projected


def test_nothing_is_counted_after_the_end_of_service():
    limit = rules.age_limit(date(1975, 3, 14), on=TODAY)
    stop = rules.counting_stop(limit, on=TODAY, active=False, service_ended_on=date(2015, 6, 30))
    assert stop.until == date(2015, 7, 1) and stop.cause == rules.STOP_END_OF_SERVICE
    periods = career((date(2000, 1, 1), None, EFFECTIVE))  # the period was never closed
    verdict = rules.early_retirement_eligibility(FEMALE, periods, on=TODAY, stop=stop)
    assert verdict.service.total == YMD(15, 6) and not verdict.eligible and verdict.reached_on is None
    assert any("30 juin 2015" in line for line in verdict.reasoning)
    assert "30 juin 2015" in verdict.reasoning[-1]  # never reached before the end of service
    assert rules.refund_possible(FEMALE, periods, on=TODAY, stop=stop)
    assert not rules.refund_possible(FEMALE, periods, on=TODAY)  # 26 years without the stop


def test_an_unknown_end_of_service_counts_up_to_the_computation_and_says_so():
    limit = rules.age_limit(date(1975, 3, 14), on=TODAY)
    stop = rules.counting_stop(limit, on=TODAY, active=False, service_ended_on=None)
    assert stop.until == TODAY and stop.end_unknown and stop.cause == rules.STOP_END_UNKNOWN
    periods = career((date(2010, 1, 1), None, EFFECTIVE))
    verdict = rules.early_retirement_eligibility(FEMALE, periods, on=TODAY, stop=stop)
    assert verdict.reached_on is None  # no projection for someone no longer in service
    assert verdict.service.total == rules.effective_service(periods, on=TODAY).total
    unknown = rules._stop_lines(stop, TODAY)
    assert len(unknown) == 1 and unknown[0] in verdict.reasoning
    active = rules.counting_stop(limit, on=TODAY, active=True, service_ended_on=None)
    assert not rules._stop_lines(active, TODAY)  # in activity, below the limit: nothing to say
