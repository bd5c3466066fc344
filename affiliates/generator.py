"""Plausible affiliates for demos and benchmarks: careers with leave, salaries, families.

``generate(count, seed, ...)`` yields chunks of rows (plain tuples, dates as ISO strings) for the
four tables; ``affiliates.services.load_generated`` writes them (COPY on PostgreSQL, bulk_create
elsewhere). Identifiers derive from the row id through bijections, so they are unique by
construction and never collide with earlier generated rows. The same seed and reference date give
the same data.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from . import names, rules
from .identifiers import fold, search_words

AFFILIATE_COLUMNS = (
    "id",
    "affiliation_number",
    "ppr",
    "cin",
    "last_name_fr",
    "first_name_fr",
    "last_name_ar",
    "first_name_ar",
    "search_fr",
    "search_ar",
    "search_words",
    "sex",
    "birth_date",
    "recruitment_date",
    "tenure_date",
    "grade",
    "scale",
    "step",
    "collectivity_id",
    "status",
    "research_professor",
    "age_limit_extended_until",
    "service_ended_on",
    "updated_at",
)
PERIOD_COLUMNS = ("affiliate_id", "start", "end", "kind")
SALARY_COLUMNS = ("affiliate_id", "start", "monthly_salary", "scale", "step")
FAMILY_COLUMNS = (
    "affiliate_id",
    "relation",
    "full_name_fr",
    "full_name_ar",
    "sex",
    "birth_date",
    "event_date",
)

_AFFILIATION_MOD, _AFFILIATION_BASE = 900_000_000, 100_000_000  # 9 digits
_PPR_MOD, _PPR_BASE = 9_000_000, 1_000_000  # 7 digits
_CIN_MOD, _CIN_BASE = 900_000, 100_000  # 6 digits after the prefix
_MULTIPLIER = 7919  # prime, coprime with the moduli above: i -> (a*i + b) mod m is a bijection

INTERRUPTIONS = (
    (rules.UNPAID_LEAVE, 40),
    (rules.DISPONIBILITE, 35),
    (rules.SUSPENSION, 8),
    (rules.SECONDMENT, 17),
)


def affiliation_number(i: int) -> str:
    return str(_AFFILIATION_BASE + (_MULTIPLIER * i + 12345) % _AFFILIATION_MOD)


def ppr(i: int) -> str:
    return str(_PPR_BASE + (_MULTIPLIER * i + 54321) % _PPR_MOD)


def cin(i: int) -> str:
    prefixes = names.CIN_PREFIXES
    q = (_MULTIPLIER * i + 4321) % (len(prefixes) * _CIN_MOD)
    return prefixes[q % len(prefixes)] + str(_CIN_BASE + q // len(prefixes))


@dataclass
class Chunk:
    affiliates: list
    periods: list
    salaries: list
    family: list


class _Dates:
    """ISO strings of ordinals, cached: formatting dates is most of the generator's time."""

    def __init__(self):
        self._cache = {}

    def __call__(self, ordinal: int | None) -> str | None:
        if ordinal is None:
            return None
        s = self._cache.get(ordinal)
        if s is None:
            s = self._cache[ordinal] = date.fromordinal(ordinal).isoformat()
        return s


def _age_limit_ordinal(birth: int, today: date) -> int:
    return rules.age_limit(date.fromordinal(birth), on=today).reached_on.toordinal()


def generate(
    count: int,
    *,
    seed: int = 0,
    first_id: int = 1,
    collectivities,
    today: date | None = None,
    chunk_size: int = 10_000,
    showcase_collectivity: int | None = None,
):
    """Yield ``Chunk``s for ``count`` affiliates with ids from ``first_id``.

    ``collectivities`` is a list of ``(id, weight)``. With ``showcase_collectivity`` the first rows
    are hand-made cases in that collectivity: near the age limit, just below and at the article 4
    thresholds, leave crossing the threshold, a 29 February birthday.
    """
    rnd = random.Random(seed)
    today = today or date.today()
    t = today.toordinal()
    iso = _Dates()
    now = today.isoformat() + "T00:00:00+00:00"
    ids = [c for c, _w in collectivities]
    cum = list(accumulate(w for _c, w in collectivities))
    total_w = cum[-1]
    search_cache = {}
    male, female, last = names.MALE_FIRST, names.FEMALE_FIRST, names.LAST
    grades = names.GRADES
    interruption_kinds = [k for k, _w in INTERRUPTIONS]
    interruption_cum = list(accumulate(w for _k, w in INTERRUPTIONS))
    showcase = _showcase_cases(today) if showcase_collectivity else []

    def search(li, fi, female_):
        key = (li, fi, female_)
        v = search_cache.get(key)
        if v is None:
            first = (female if female_ else male)[fi]
            s_fr = fold(f"{last[li][0]} {first[0]}")
            s_ar = fold(f"{last[li][1]} {first[1]}")
            v = search_cache[key] = (s_fr, s_ar, " ".join(search_words(s_fr, s_ar)))
        return v

    chunk = Chunk([], [], [], [])
    for n in range(count):
        i = first_id + n
        case = showcase[n] if n < len(showcase) else None
        r = rnd.random
        is_female = (case["sex"] == "F") if case else r() < 0.38
        li = rnd.randrange(len(last))
        fi = rnd.randrange(len(female if is_female else male))
        first = (female if is_female else male)[fi]
        s_fr, s_ar, s_keys = search(li, fi, is_female)
        coll = showcase_collectivity if case else ids[bisect.bisect_right(cum, r() * total_w)]
        status = "active"
        if case:
            birth = case["birth"].toordinal()
        else:
            u = r()
            if u < 0.04:
                status = "retired"
                birth = date(1950, 1, 1).toordinal() + rnd.randrange(11 * 365)
            else:
                if u < 0.048:
                    status = "deceased"
                elif u < 0.06:
                    status = "left"
                birth = t - 22 * 365 - rnd.randrange(41 * 365 - 30)
        limit = _age_limit_ordinal(birth, today)
        if status == "active" and limit <= t:
            birth += 400  # an active affiliate is below the age limit
            limit = _age_limit_ordinal(birth, today)
        if case:
            recruit = case["recruit"].toordinal()
        else:
            latest = min(t - 30, limit - 365 * 8)
            earliest = birth + int(365.25 * 20)
            recruit = earliest + int(r() ** 1.6 * max(1, min(latest - earliest, 15 * 365)))
        if status == "retired":
            end_all = limit - 1
        elif status in ("deceased", "left"):
            end_all = recruit + int((t - recruit) * (0.3 + 0.6 * r()))
        else:
            end_all = None
        last_day = end_all if end_all is not None else t - 1
        # Periods.
        periods = chunk.periods
        if case:
            for start, end, kind in case["periods"]:
                periods.append(
                    (i, iso(start.toordinal()), iso(end.toordinal() if end else None), kind)
                )
        else:
            if r() < 0.10 and recruit - birth > int(365.25 * 21):
                gap = 30 + rnd.randrange(400)
                length = 365 + rnd.randrange(4 * 365)
                bb_end = recruit - gap
                bb_start = max(birth + int(365.25 * 18), bb_end - length)
                if bb_start < bb_end:
                    periods.append((i, iso(bb_start), iso(bb_end), rules.BOUGHT_BACK))
            if r() < 0.25 and last_day - recruit > 3 * 365:
                leave_start = recruit + 365 + rnd.randrange(last_day - recruit - 2 * 365)
                leave_end = min(leave_start + 30 + rnd.randrange(1100), last_day - 1)
                kind = interruption_kinds[bisect.bisect_right(interruption_cum, r() * 100)]
                periods.append((i, iso(recruit), iso(leave_start - 1), rules.EFFECTIVE))
                periods.append((i, iso(leave_start), iso(leave_end), kind))
                periods.append((i, iso(leave_end + 1), iso(end_all), rules.EFFECTIVE))
            else:
                periods.append((i, iso(recruit), iso(end_all), rules.EFFECTIVE))
        # Grade, salaries.
        grade, scale = grades[rnd.randrange(len(grades))]
        years = (last_day - recruit) // 365
        step = min(10, 1 + years // 3)
        base = names.SCALE_SALARY[scale]
        first_salary = max(recruit, last_day - 12 * 365)
        s_start = recruit
        salaries = chunk.salaries
        k = 0
        while s_start <= last_day:
            s_step = min(10, 1 + (s_start - recruit) // (3 * 365))
            year = date.fromordinal(s_start).year
            amount = base * (1 + 0.035 * (s_step - 1)) * (1.015 ** (year - 2020))
            salaries.append((i, iso(s_start), f"{amount:.2f}", scale, s_step))
            k += 1
            s_start = max(s_start + 4 * 365, first_salary) if k == 1 else s_start + 4 * 365
        # Family.
        family = chunk.family
        age_days = t - birth
        if age_days > 25 * 365 and r() < 0.72:
            married = (
                birth + int(365.25 * 23) + rnd.randrange(max(1, min(age_days - 23 * 365, 15 * 365)))
            )
            married = min(married, t - 30)
            sp_female = not is_female
            sp_first = (female if sp_female else male)[
                rnd.randrange(len(female if sp_female else male))
            ]
            sp_last = last[rnd.randrange(len(last))]
            sp_birth = birth + rnd.randrange(-3 * 365, 8 * 365) * (1 if sp_female else -1)
            family.append(
                (
                    i,
                    "spouse",
                    f"{sp_last[0]} {sp_first[0]}",
                    f"{sp_last[1]} {sp_first[1]}",
                    "F" if sp_female else "M",
                    iso(sp_birth),
                    iso(married),
                )
            )
            children = (0, 1, 1, 2, 2, 2, 3, 3, 4)[rnd.randrange(9)]
            c_birth = married + 300
            for _ in range(children):
                c_birth += 365 + rnd.randrange(3 * 365)
                if c_birth >= t:
                    break
                c_female = r() < 0.5
                c_first = (female if c_female else male)[
                    rnd.randrange(len(female if c_female else male))
                ]
                family.append(
                    (
                        i,
                        "child",
                        f"{last[li][0]} {c_first[0]}",
                        f"{last[li][1]} {c_first[1]}",
                        "F" if c_female else "M",
                        iso(c_birth),
                        None,
                    )
                )
        tenure = (
            recruit + 365
            if recruit + 365 < t and (end_all is None or recruit + 365 < end_all)
            else None
        )
        chunk.affiliates.append(
            (
                i,
                affiliation_number(i),
                ppr(i),
                cin(i),
                last[li][0],
                first[0],
                last[li][1],
                first[1],
                s_fr,
                s_ar,
                s_keys,
                "F" if is_female else "M",
                iso(birth),
                iso(recruit),
                iso(tenure),
                grade,
                scale,
                step,
                coll,
                status,
                False,
                None,
                iso(end_all),  # the end of service: None while in activity
                now,
            )
        )
        if len(chunk.affiliates) >= chunk_size:
            yield chunk
            chunk = Chunk([], [], [], [])
    if chunk.affiliates:
        yield chunk


def _showcase_cases(today: date) -> list[dict]:
    """Hand-made careers in the demo collectivity, relative to ``today``."""

    def ago(y=0, m=0, d=0):
        return rules.add_ymd(today, -y, -m, -d)

    e, leave = rules.EFFECTIVE, rules.UNPAID_LEAVE
    cases = [
        # Reaches the age limit within six months (63, born 1962 or later).
        {"sex": "M", "birth": ago(62, 8), "recruit": ago(35), "periods": [(ago(35), None, e)]},
        {"sex": "F", "birth": ago(62, 11, 10), "recruit": ago(30), "periods": [(ago(30), None, e)]},
        # A woman one day short of 18 years, and one at exactly 18 years.
        {
            "sex": "F",
            "birth": ago(42),
            "recruit": ago(18) + timedelta(days=1),
            "periods": [(ago(18) + timedelta(days=1), None, e)],
        },
        {"sex": "F", "birth": ago(43), "recruit": ago(18), "periods": [(ago(18), None, e)]},
        # A man with 23 years 11 months, and one with 25 years.
        {"sex": "M", "birth": ago(47), "recruit": ago(23, 11), "periods": [(ago(23, 11), None, e)]},
        {"sex": "M", "birth": ago(50), "recruit": ago(25), "periods": [(ago(25), None, e)]},
        # A woman whose 19 years include 13 months of unpaid leave: one month short of 18 years.
        {
            "sex": "F",
            "birth": ago(45),
            "recruit": ago(19),
            "periods": [
                (ago(19), ago(10) - timedelta(days=1), e),
                (ago(10), ago(8, 11) - timedelta(days=1), leave),
                (ago(8, 11), None, e),
            ],
        },
        # Born on 29 February.
        {
            "sex": "M",
            "birth": date(1964, 2, 29),
            "recruit": date(1990, 9, 1),
            "periods": [(date(1990, 9, 1), None, e)],
        },
    ]
    return cases
