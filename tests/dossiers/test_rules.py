"""The opening rules per kind (``dossiers.rules``): one test per rule, refused with its reason (why, and
what to do) and allowed when met; the 29-year-old gets no age-limit dossier.

The messages are read in English (the msgids): the French and Arabic catalogues may word them later."""

from dataclasses import replace
from datetime import date

import pytest
from django.utils import translation

from affiliates import rules as law
from affiliates.rules import add_ymd
from dossiers import rules, services
from dossiers.checklists import KINDS
from dossiers.models import Dossier, DossierKind
from dossiers.services import DossierError
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.dossiers.conftest import near_age_limit

pytestmark = pytest.mark.django_db

TODAY = date.today()


def open_(user, affiliate, code="age_limit", **kw):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code=code, **kw)


def refusal(user, affiliate, code="age_limit", **kw) -> str:
    """The reasons an opening is refused with, in English; nothing opened."""
    before = Dossier.objects.count()
    with translation.override("en"), pytest.raises(DossierError) as exc:
        open_(user, affiliate, code, **kw)
    assert exc.value.code == "not_allowed" and Dossier.objects.count() == before
    with translation.override("en"):
        return " ".join(str(r) for r in exc.value.reasons)


def born(years_ago, months=0):
    return add_ymd(TODAY, years=-years_ago, months=-months)


def test_every_kind_of_the_checklists_has_its_rules_as_data():
    assert set(rules.RULES) == {code for code, _fr, _ar in KINDS}
    for code in rules.RULES:
        chain = rules.rules_for(code)
        assert chain[0] is rules.kind_offered and chain[-1] is rules.one_open_dossier
    # a kind added in the admin, with no row: the rules every kind has
    assert rules.rules_for("new_kind") == (rules.kind_offered, rules.not_attached, rules.one_open_dossier)


class TestAgeLimit:
    def test_no_age_limit_dossier_for_a_29_year_old(self, officers):
        young = with_career(AffiliateFactory(birth_date=born(29), recruitment_date=date(2020, 1, 1)), family=False)
        reasons = refusal(officers[1], young)
        limit = add_ymd(young.birth_date, years=63)  # born after 1962: 63
        with translation.override("en"):
            assert "An age-limit dossier opens 12 months before the age limit" in reasons
            assert law.add_ymd(limit, months=-12).strftime("%Y") in reasons  # from when it can be opened
            assert "early retirement, invalidity" in reasons  # what to do meanwhile

    def test_opens_within_twelve_months_of_the_age_limit(self, officers):
        assert open_(officers[1], with_career(near_age_limit(), family=False)).kind.code == "age_limit"
        just_in = with_career(AffiliateFactory(birth_date=add_ymd(TODAY, years=-62)), family=False)  # 63 in 1 year
        assert open_(officers[1], just_in).kind.code == "age_limit"

    def test_not_thirteen_months_ahead(self, officers):
        early_bird = with_career(AffiliateFactory(birth_date=add_ymd(TODAY, years=-62, months=1)), family=False)
        assert "12 months before the age limit" in refusal(officers[1], early_bird)

    def test_opens_once_the_age_limit_is_reached(self, officers):
        past = with_career(AffiliateFactory(birth_date=born(63, 2)), family=False)
        assert open_(officers[1], past).kind.code == "age_limit"

    def test_the_extension_granted_moves_the_age_limit(self, officers):
        # 63 two months ago, but kept in service until two years from now: not yet
        extended = with_career(AffiliateFactory(birth_date=born(63, 2),
                                                age_limit_extended_until=add_ymd(TODAY, years=2)), family=False)
        assert "12 months before the age limit" in refusal(officers[1], extended)
        extended.age_limit_extended_until = add_ymd(TODAY, months=10)
        extended.save()
        assert open_(officers[1], extended).kind.code == "age_limit"

    def test_the_rule_reads_the_counting_stop_alone(self):
        """Pure: the same facts, no database."""
        def opening(birth):
            limit = law.age_limit(birth, on=TODAY)
            stop = law.counting_stop(limit, on=TODAY, active=True, service_ended_on=None)
            return rules.Opening(kind="age_limit", kind_offered=True, on=TODAY, in_activity=True,
                                 status_label="active", deceased=False, sex="M", periods=(), stop=stop,
                                 open_dossier_of_kind=False)

        assert rules.age_limit_near(opening(born(29))) is not None
        assert rules.age_limit_near(opening(born(62, 6))) is None
        assert rules.opening_problems(opening(born(62, 6))) == []


class TestOtherRules:
    def test_a_kind_no_longer_offered(self, officers, affiliate):
        DossierKind.objects.filter(code="age_limit").update(is_active=False)
        assert "not offered any more" in refusal(officers[1], affiliate)

    @pytest.mark.parametrize("code", ["age_limit", "early", "invalidity"])
    def test_a_retirement_dossier_is_for_an_affiliate_in_activity(self, officers, code):
        retired = with_career(near_age_limit(status="retired", service_ended_on=date(2025, 12, 31)), family=False)
        assert "for an affiliate in activity; this one is retired" in refusal(officers[1], retired, code)

    def test_early_retirement_needs_article_4(self, officers):
        junior = with_career(AffiliateFactory(sex="M", birth_date=born(40), recruitment_date=date(2015, 1, 1)),
                             family=False)
        assert "Article 4 is not met" in refusal(officers[1], junior, "early")
        assert open_(officers[1], with_career(near_age_limit(), family=False), "early").kind.code == "early"

    def test_invalidity_needs_no_minimum_service(self, officers):
        # article 4 for invalidity: no minimum (affiliates.rules "early_min_service_invalidity")
        junior = with_career(AffiliateFactory(sex="M", birth_date=born(35), recruitment_date=date(2022, 1, 1)),
                             family=False)
        assert open_(officers[1], junior, "invalidity").kind.code == "invalidity"

    def test_invalidity_refused_if_its_minimum_is_not_met(self, monkeypatch):
        verdict = law.early_retirement_eligibility  # the parameter table's figure, whatever it becomes

        def stricter(*args, invalidity=False, **kw):
            assert invalidity  # the invalidity rule asks for the invalidity minimum
            return replace(verdict(*args, invalidity=invalidity, **kw), eligible=False)

        monkeypatch.setattr(law, "early_retirement_eligibility", stricter)
        stop = law.counting_stop(law.age_limit(born(40), on=TODAY), on=TODAY, active=True, service_ended_on=None)
        opening = rules.Opening(kind="invalidity", kind_offered=True, on=TODAY, in_activity=True,
                                status_label="active", deceased=False, sex="M", periods=(), stop=stop,
                                open_dossier_of_kind=False)
        with translation.override("en"):
            assert "a retirement for invalidity requires" in str(rules.article_4_for_invalidity(opening))

    def test_death_only_for_a_deceased_affiliate(self, officers, affiliate):
        assert "for a deceased affiliate" in refusal(officers[1], affiliate, "death")
        affiliate.status = "deceased"
        affiliate.save()
        assert open_(officers[1], affiliate, "death").kind.code == "death"

    def test_refund_only_without_the_minimum_service(self, officers, affiliate):
        assert "right to a pension" in refusal(officers[1], affiliate, "refund")
        short = with_career(AffiliateFactory(status="left", birth_date=born(45), recruitment_date=date(2010, 1, 1),
                                             service_ended_on=date(2020, 6, 30)), family=False)
        assert open_(officers[1], short, "refund").kind.code == "refund"

    def test_supplementary_attached_to_a_received_dossier(self, officers, affiliate):
        assert "choose it" in refusal(officers[1], affiliate, "supplementary")
        first = open_(officers[1], affiliate)
        assert "that the CMR has received" in refusal(officers[1], affiliate, "supplementary", parent_id=first.pk)
        Dossier.objects.filter(pk=first.pk).update(state="received")
        assert open_(officers[1], affiliate, "supplementary", parent_id=first.pk).parent == first

    def test_only_a_supplementary_dossier_is_attached(self, officers, affiliate):
        first = open_(officers[1], affiliate, "early")
        assert "Only a supplementary dossier" in refusal(officers[1], affiliate, "age_limit", parent_id=first.pk)

    def test_one_open_dossier_per_kind(self, officers, affiliate):
        first = open_(officers[1], affiliate)
        assert "already has an open dossier of this kind" in refusal(officers[1], affiliate)
        Dossier.objects.filter(pk=first.pk).update(state="cancelled")
        assert open_(officers[1], affiliate).kind.code == "age_limit"

    def test_every_refusal_is_said_at_once(self, officers):
        young_and_retired = with_career(AffiliateFactory(birth_date=born(29), status="retired",
                                                         service_ended_on=date(2025, 1, 31)), family=False)
        with translation.override("en"):
            problems = [str(p) for p in services.opening_problems(young_and_retired,
                                                                  DossierKind.objects.get(code="age_limit"))]
        assert len(problems) == 2 and "in activity" in problems[0] and "12 months" in problems[1]
