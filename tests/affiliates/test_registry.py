"""The registry's own guarantees: unique identifiers, periods that never overlap, the generator."""

import re
from datetime import date

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.models import Collectivity
from affiliates import services
from affiliates.models import Affiliate, FamilyMember, SalaryRecord, ServicePeriod
from tests.affiliates.factories import AffiliateFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["affiliation_number", "ppr", "cin"])
def test_identifiers_are_unique(field):
    first = AffiliateFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AffiliateFactory(**{field: getattr(first, field)})
    assert Affiliate.objects.count() == 1


def test_search_columns_follow_the_names():
    a = AffiliateFactory(last_name_fr="El Fâssi", first_name_ar="مُحَمَّد")
    assert a.search_fr == "el fassi fatima"
    assert "محمد" in a.search_ar
    assert "fasi" in a.search_words.split()  # the skeleton of "Fassi", its doubled letter dropped


@pytest.mark.parametrize(
    ("second_start", "second_end"),
    [
        (date(2009, 12, 31), date(2011, 1, 1)),  # overlaps by one day (ends are included)
        (date(2005, 1, 1), None),  # a running period over a closed one
        (date(2001, 1, 1), date(2002, 1, 1)),  # inside
    ],
)
def test_service_periods_cannot_overlap(second_start, second_end):
    a = AffiliateFactory()
    ServicePeriod.objects.create(
        affiliate=a, start=date(2000, 1, 1), end=date(2009, 12, 31), kind="effective"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePeriod.objects.create(
            affiliate=a, start=second_start, end=second_end, kind="unpaid_leave"
        )
    assert a.periods.count() == 1


def test_adjacent_periods_and_other_affiliates_are_fine():
    a, b = AffiliateFactory(), AffiliateFactory()
    ServicePeriod.objects.create(
        affiliate=a, start=date(2000, 1, 1), end=date(2009, 12, 31), kind="effective"
    )
    ServicePeriod.objects.create(affiliate=a, start=date(2010, 1, 1), end=None, kind="effective")
    ServicePeriod.objects.create(affiliate=b, start=date(2000, 1, 1), end=None, kind="effective")
    assert ServicePeriod.objects.count() == 3


def test_a_period_cannot_end_before_it_starts():
    a = AffiliateFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePeriod.objects.create(
            affiliate=a, start=date(2010, 1, 1), end=date(2009, 1, 1), kind="effective"
        )


# --- generator ---

CIN = re.compile(r"^[A-Z]{1,2}[1-9][0-9]{5}$")


def test_generator_writes_plausible_affiliates_spread_over_real_collectivities():
    call_command("generate_affiliates", "--count", "400", "--seed", "7", verbosity=0)
    assert Affiliate.objects.count() == 400
    assert Affiliate.objects.values("collectivity").distinct().count() > 50
    for a in Affiliate.objects.all()[:100]:
        assert CIN.match(a.cin), a.cin
        assert re.match(r"^[1-9][0-9]{6}$", a.ppr)
        assert re.match(r"^[1-9][0-9]{8}$", a.affiliation_number)
        assert a.last_name_ar and a.first_name_ar and a.last_name_fr
        assert a.recruitment_date > a.birth_date
    kinds = set(ServicePeriod.objects.values_list("kind", flat=True))
    assert {"effective", "unpaid_leave", "disponibilite"} <= kinds
    assert SalaryRecord.objects.count() > 400
    assert FamilyMember.objects.filter(relation="child").exists()
    assert Affiliate.objects.filter(status="active").count() > 300
    # The end of service is recorded for those no longer in activity (COPY wrote its column), and it
    # is the last day of their last period.
    assert not Affiliate.objects.filter(status="active", service_ended_on__isnull=False).exists()
    gone = Affiliate.objects.exclude(status="active").prefetch_related("periods")
    assert gone.exists() and not gone.filter(service_ended_on__isnull=True).exists()
    for a in gone:
        assert max(p.end for p in a.periods.all()) == a.service_ended_on, a.pk


def test_generator_is_deterministic_and_appends_without_collisions():
    services.load_generated(50, seed=3, today=date(2026, 1, 1))
    first = list(Affiliate.objects.order_by("id").values_list("last_name_fr", "birth_date"))
    Affiliate.objects.all().delete()
    services.load_generated(50, seed=3, today=date(2026, 1, 1))
    again = list(Affiliate.objects.order_by("id").values_list("last_name_fr", "birth_date"))
    assert first == again
    services.load_generated(
        50, seed=3, today=date(2026, 1, 1)
    )  # appended: new ids, new identifiers
    assert Affiliate.objects.count() == 100
    a = AffiliateFactory()  # the id sequence was moved past the copied rows
    assert a.pk > Affiliate.objects.exclude(pk=a.pk).order_by("-pk").first().pk


def test_showcase_puts_cases_in_the_demo_collectivity():
    call_command(
        "generate_affiliates",
        "--count",
        "20",
        "--collectivity",
        "01.511.01.0",
        "--showcase",
        verbosity=0,
    )
    tanger = Collectivity.objects.get(code="01.511.01.0")
    assert Affiliate.objects.filter(collectivity=tanger).count() == 20
    assert Affiliate.objects.filter(birth_date=date(1964, 2, 29)).exists()


def test_a_large_load_rebuilds_every_index_and_constraint(monkeypatch):
    def definitions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename LIKE 'affiliates_%%'")
            indexes = {r[0] for r in cursor.fetchall()}
            cursor.execute(
                "SELECT conname FROM pg_constraint "
                "WHERE conrelid::regclass::text LIKE 'affiliates_%%'"
            )
            return indexes, {r[0] for r in cursor.fetchall()}

    before = definitions()
    monkeypatch.setattr(services, "BULK_REBUILD_THRESHOLD", 10)
    figures = services.load_generated(30, seed=1)
    assert figures["affiliates"] == 30
    assert definitions() == before


def test_generator_refuses_bad_arguments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("generate_affiliates", "--count", "0", verbosity=0)
    with pytest.raises(CommandError):
        call_command("generate_affiliates", "--count", "5", "--collectivity", "99.999", verbosity=0)
    assert not Affiliate.objects.exists()


def test_demo_data_is_loaded_once_with_cases_in_tanger():
    call_command("generate_affiliates", "--demo", verbosity=0)
    tanger = Collectivity.objects.get(code="01.511.01.0")
    total = Affiliate.objects.count()
    assert total == 3150
    assert Affiliate.objects.filter(collectivity=tanger).count() >= 150
    call_command("generate_affiliates", "--demo", verbosity=0)
    assert Affiliate.objects.count() == total
