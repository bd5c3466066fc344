"""Dates, numbers, durations and kinship as each language writes them (Morocco's Arabic, French)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils.formats import date_format
from django.utils.translation import override

from affiliates.rules import YMD, format_ymd
from eretraite.formatting import amount

pytestmark = pytest.mark.django_db

MOROCCAN_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر",
                   "نونبر", "دجنبر"]


def test_arabic_dates_name_the_months_as_morocco_does():
    with override("ar"):
        for month, name in enumerate(MOROCCAN_MONTHS, start=1):
            assert name in date_format(date(2026, month, 1)), month
            assert name in date_format(date(2026, month, 1), "j E Y")
        shown = Template("{{ d }}").render(Context({"d": date(2026, 12, 1)}))
    assert "دجنبر" in shown and "ديسمبر" not in shown
    with override("fr"):
        assert date_format(date(2026, 12, 1)) == "1 décembre 2026"


def test_times_are_local_not_utc():
    from signatures.templatetags.signatures_tags import local_moment

    with override("fr"):  # a signing time stored in UTC, shown in Casablanca's time (UTC+1)
        assert local_moment(datetime(2026, 12, 1, 10, 0, tzinfo=UTC).isoformat()) == "01/12/2026 11:00"


def test_amounts_are_grouped_by_thousands_in_each_language():
    with override("fr"):
        assert amount(Decimal("12345.6")) == "12\xa0345,60 DH"
    with override("ar"):
        shown = amount(Decimal("12345.6"))
        assert "12.345,60" in shown and "درهم" in shown
    assert amount(None) == "—"


@pytest.mark.parametrize(("ymd", "fr"), [
    (YMD(0, 0, 0), "0 an, 0 mois et 0 jour"),
    (YMD(1, 1, 1), "1 an, 1 mois et 1 jour"),
    (YMD(2, 3, 12), "2 ans, 3 mois et 12 jours"),
])
def test_durations_agree_with_their_numbers(ymd, fr):
    with override("fr"):
        assert format_ymd(ymd) == fr
    with override("ar"):
        shown = format_ymd(ymd)
        assert "years" not in shown and "%" not in shown and any(w in shown for w in ("سنة", "سنوات", "سنتان"))


def test_kinship_follows_the_sex_of_the_relative():
    from tests.affiliates.factories import AffiliateFactory, with_career

    person = with_career(AffiliateFactory())  # a husband and a daughter (with_career's small family)
    relatives = {m.full_name_fr: m for m in person.family.all()}
    with override("ar"):
        assert relatives["Alaoui Salma"].kinship == "البنت"
        assert relatives["Alaoui Karim"].kinship == "الزوج"
    with override("fr"):
        assert relatives["Alaoui Salma"].kinship == "fille"
        assert relatives["Alaoui Karim"].kinship == "époux"


def test_law_sources_and_figures_are_words_not_codes():
    from affiliates.rules import PARAMETERS

    for language in ("fr", "ar"):
        with override(language):
            for p in PARAMETERS:
                for text in (str(p.source), p.label, p.shown_value):
                    assert "_" not in text, (language, p.key, text)
                if language == "ar":
                    assert any("\u0600" <= c <= "\u06ff" for c in str(p.source) + p.label), (p.key, p.label)
