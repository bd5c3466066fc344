"""The law as code: table-driven tests of every threshold and transition (no database)."""

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
        (date(2000, 1, 1), date(2000, 1, 31), YMD(0, 0, 30)),  # 30 days of January: not a month
        (date(2000, 1, 1), date(2000, 1, 30), YMD(0, 0, 29)),
        (date(2000, 1, 31), date(2000, 3, 1), YMD(0, 1, 1)),
        (date(2000, 2, 29), date(2001, 2, 28), YMD(1, 0, 0)),
        (
            date(2000, 1, 1),
            date(2017, 12, 31),
            YMD(17, 11, 30),
        ),  # = 18 years minus a day, carried
    ],
)
def test_calendar_length(start, end_exclusive, expected):
    assert rules.calendar_length(start, end_exclusive) == expected


def test_ymd_arithmetic_carries_30_day_months():
    assert YMD(1, 11, 20) + YMD(0, 0, 15) == YMD(2, 0, 5)
    assert YMD(18, 0, 0) - YMD(17, 11, 29) == YMD(0, 0, 1)
    assert str(YMD(3, 2, 1)) == "3y 2m 1d"


# --- article 4 ---


def career(*spans):
    return [Period(s, e, k) for s, e, k in spans]


WOMAN_SINCE_2000 = career((date(2000, 1, 1), None, EFFECTIVE))


@pytest.mark.parametrize(
    ("sex", "periods", "on", "eligible", "total", "reached"),
    [
        # A woman at 17y11m29d, then at exactly 18y0m0d.
        (FEMALE, WOMAN_SINCE_2000, date(2017, 12, 30), False, YMD(17, 11, 29), date(2018, 1, 1)),
        (FEMALE, WOMAN_SINCE_2000, date(2018, 1, 1), True, YMD(18, 0, 0), date(2018, 1, 1)),
        (FEMALE, WOMAN_SINCE_2000, date(2025, 6, 1), True, YMD(25, 5, 0), date(2018, 1, 1)),
        # A man needs 24 years.
        (MALE, WOMAN_SINCE_2000, date(2023, 12, 30), False, YMD(23, 11, 29), date(2024, 1, 1)),
        (MALE, WOMAN_SINCE_2000, date(2024, 1, 1), True, YMD(24, 0, 0), date(2024, 1, 1)),
        # Unpaid leave crossing the threshold: it pushes the date back by its length (1 year).
        # With two periods, the 30 days of December 2018 complete a 30-day month once added to
        # the first period: 18 years on 31 December 2018 (service counting, certainty L).
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
            YMD(23, 6, 0),
            date(2025, 8, 31),  # the 30 days of August carried, as above
        ),
        # Bought-back service counts, and lets the threshold be reached earlier.
        (FEMALE, WOMAN_SINCE_2000, date(2017, 6, 1), False, YMD(17, 5, 0), date(2018, 1, 1)),
        (
            FEMALE,
            career(
                (date(1995, 1, 1), date(1996, 12, 31), BOUGHT_BACK),
                (date(2000, 1, 1), None, EFFECTIVE),
            ),
            date(2017, 6, 1),
            True,
            YMD(19, 5, 0),
            date(2015, 12, 31),  # the 30 days of December carried, as above
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
    assert past.reached_on == future.reached_on == date(2018, 1, 1)
    assert not past.reached_projected and future.reached_projected
    assert "Si la période en cours se poursuit" in future.reasoning[-1]


def test_the_date_shown_agrees_with_the_count_shown():
    # Two periods whose days carry into a month: the threshold date is the first day the count
    # itself reaches the requirement, and the day before it does not.
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
