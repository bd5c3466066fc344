"""When a dossier of each kind may be opened: the opening rules, as data. Pure: no ORM.

``RULES`` maps a kind's code to its rules, in the order their refusals are said; every kind also
passes ``FIRST`` before its own and ``LAST`` after them. A rule reads an ``Opening`` (what the
registry and the portal know of the affiliate, the kind and the earlier dossier, gathered by
``dossiers.selectors.opening_facts``) and returns ``None`` when it is met, otherwise the refusal:
why, and what to do. The law's figures (age limits, article 4's service) are ``affiliates.rules``'.

A kind added in the admin with no row here gets the rules every kind has (``DEFAULT``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from affiliates import rules as law

from .workflow import State

# The CMR has received a dossier once it is in one of these states: a supplement may follow.
RECEIVED_BY_CMR = frozenset({State.RECEIVED, State.UNDER_REVIEW, State.DOCUMENTS_REQUESTED, State.LIQUIDATED,
                             State.IN_PAYMENT})
RETIREMENT_KINDS = frozenset({"age_limit", "early", "invalidity"})
# An age-limit dossier opens this many months before the age limit (the CMR asks HR to start a year
# ahead: PENSION_RULES.md), and any time after it.
AGE_LIMIT_NOTICE_MONTHS = 12


@dataclass(frozen=True)
class EarlierDossier:
    """The dossier a supplementary one would be attached to."""

    same_affiliate: bool
    state: str


@dataclass(frozen=True)
class Opening:
    """What the opening rules read about one affiliate, one kind and one day."""

    kind: str  # the kind's code
    kind_offered: bool
    on: date
    in_activity: bool
    status_label: str  # the affiliate's status in the registry, in words
    deceased: bool
    sex: str
    periods: tuple  # affiliates.rules.Period, as the situation page counts them
    stop: law.CountingStop  # affiliates.selectors.counting_stop(affiliate, on=on)
    open_dossier_of_kind: bool
    earlier: EarlierDossier | None = None  # the earlier dossier chosen, if any

    @property
    def age_limit_on(self) -> date:
        """The affiliate's age limit, with the extension granted to him."""
        return self.stop.age_limit.retirement_on


Rule = Callable[[Opening], object]  # a refusal (a translatable message), or None


def _date(day: date) -> str:
    return date_format(day, "DATE_FORMAT")


def kind_offered(o: Opening):
    if not o.kind_offered:
        return _("This kind of dossier is not offered any more.")
    return None


def in_activity(o: Opening):
    if not o.in_activity:
        return _("A retirement dossier is for an affiliate in activity; this one is %(status)s.") % {
            "status": o.status_label}
    return None


def age_limit_near(o: Opening):
    """The age limit (with its extension) is reached, or will be within the notice."""
    opens_on = law.add_ymd(o.age_limit_on, months=-AGE_LIMIT_NOTICE_MONTHS)
    if o.on < opens_on:
        return _("An age-limit dossier opens %(months)d months before the age limit: this affiliate reaches it "
                 "on %(limit)s, so the dossier can be opened from %(opens)s. Until then, choose the kind that "
                 "fits (early retirement, invalidity), or have his birth date corrected in the registry if it "
                 "is wrong (correction request to the CMR).") % {
            "months": AGE_LIMIT_NOTICE_MONTHS, "limit": _date(o.age_limit_on), "opens": _date(opens_on)}
    return None


def article_4(o: Opening):
    """Article 4's effective service, counted as on the situation page (up to the counting stop)."""
    verdict = law.early_retirement_eligibility(o.sex, list(o.periods), on=o.on, stop=o.stop)
    if not verdict.eligible:
        return _("Article 4 is not met: the affiliate does not have the effective service "
                 "early retirement requires. See the eligibility on his situation page.")
    return None


def article_4_for_invalidity(o: Opening):
    """Article 4 for a retirement for invalidity: its own minimum (none, today: ``affiliates.rules``)."""
    verdict = law.early_retirement_eligibility(o.sex, list(o.periods), on=o.on, stop=o.stop, invalidity=True)
    if not verdict.eligible:
        return _("Article 4 is not met: the affiliate does not have the effective service a retirement for "
                 "invalidity requires. See the eligibility for invalidity on his situation page.")
    return None


def deceased(o: Opening):
    if not o.deceased:
        return _("A death dossier is for a deceased affiliate. Correct his status in the registry "
                 "first (correction request to the CMR).")
    return None


def without_minimum_service(o: Opening):
    if not law.refund_possible(o.sex, list(o.periods), on=o.on, stop=o.stop):
        return _("A refund is for an affiliate who leaves without the minimum service; this one has a "
                 "right to a pension.")
    return None


def attached_to_received(o: Opening):
    if o.earlier is None:
        return _("A supplementary dossier is attached to an earlier dossier: choose it.")
    if not o.earlier.same_affiliate or o.earlier.state not in RECEIVED_BY_CMR:
        return _("A supplementary dossier needs an earlier dossier of the same affiliate that the "
                 "CMR has received.")
    return None


def not_attached(o: Opening):
    if o.earlier is not None:
        return _("Only a supplementary dossier is attached to an earlier one.")
    return None


def one_open_dossier(o: Opening):
    if o.open_dossier_of_kind:
        return _("This affiliate already has an open dossier of this kind.")
    return None


FIRST: tuple[Rule, ...] = (kind_offered,)
LAST: tuple[Rule, ...] = (one_open_dossier,)
DEFAULT: tuple[Rule, ...] = (not_attached,)
RULES: dict[str, tuple[Rule, ...]] = {
    "age_limit": (in_activity, age_limit_near, not_attached),
    "early": (in_activity, article_4, not_attached),
    "invalidity": (in_activity, article_4_for_invalidity, not_attached),
    "death": (deceased, not_attached),
    "refund": (without_minimum_service, not_attached),
    "supplementary": (attached_to_received,),
}


def rules_for(kind: str) -> tuple[Rule, ...]:
    return (*FIRST, *RULES.get(kind, DEFAULT), *LAST)


def opening_problems(opening: Opening) -> list:
    """Why a dossier of this kind cannot be opened (empty: it can), each refusal once, in order."""
    return [problem for rule in rules_for(opening.kind) if (problem := rule(opening)) is not None]
