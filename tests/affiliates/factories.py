"""Factories for the affiliate registry tests."""

from datetime import date
from decimal import Decimal

import factory

from affiliates.models import Affiliate, FamilyMember, SalaryRecord, ServicePeriod
from tests.factories import commune

FACTORY_NUMBERS = 5_000_000_000  # ten digits
FACTORY_PPRS = 50_000_000  # eight digits


class AffiliateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliate

    # Outside the generator's ranges (9-digit numbers, 7-digit PPRs: ``affiliates.generator``), so
    # that factories can add people beside a generated million (the benchmarks do).
    affiliation_number = factory.Sequence(lambda n: str(FACTORY_NUMBERS + n))
    ppr = factory.Sequence(lambda n: str(FACTORY_PPRS + n))
    cin = factory.Sequence(lambda n: f"ZZ{100000 + n}")
    last_name_fr = "Bennani"
    first_name_fr = "Fatima"
    last_name_ar = "بناني"
    first_name_ar = "فاطمة"
    sex = "F"
    birth_date = date(1975, 3, 14)
    recruitment_date = date(2000, 1, 1)
    tenure_date = date(2001, 1, 1)
    grade = "Administrateur de 2e grade"
    scale = 11
    step = 5
    collectivity = factory.LazyFunction(commune)


def with_career(affiliate, *spans, salaries=((date(2000, 1, 1), "9000.00"),), family=True):
    """Add periods ``(start, end, kind)``, salaries and a small family to ``affiliate``."""
    for start, end, kind in spans or ((affiliate.recruitment_date, None, "effective"),):
        ServicePeriod.objects.create(affiliate=affiliate, start=start, end=end, kind=kind)
    for start, amount in salaries:
        SalaryRecord.objects.create(
            affiliate=affiliate,
            start=start,
            monthly_salary=Decimal(amount),
            scale=affiliate.scale,
            step=affiliate.step,
        )
    if family:
        FamilyMember.objects.create(
            affiliate=affiliate,
            relation="spouse",
            full_name_fr="Alaoui Karim",
            full_name_ar="العلوي كريم",
            sex="M",
            birth_date=date(1972, 5, 1),
            event_date=date(1999, 7, 1),
        )
        FamilyMember.objects.create(
            affiliate=affiliate,
            relation="child",
            full_name_fr="Alaoui Salma",
            full_name_ar="العلوي سلمى",
            sex="F",
            birth_date=date(2003, 9, 2),
        )
    return affiliate


PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
