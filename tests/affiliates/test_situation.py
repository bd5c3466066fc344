"""The situation page: what the officer sees, the audit trail, scoping, fixed SQL."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import AuditEvent
from affiliates.rules import YMD
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.factories import (
    AgentFactory,
    CmrAgentFactory,
    ManagerFactory,
    ProvincialOfficeFactory,
    other_commune,
)

pytestmark = pytest.mark.django_db


def url(a, **params):
    return reverse("affiliates:situation", args=[a.pk]) + (
        "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    )


def test_the_situation_shows_identity_career_rights_and_an_estimate(client):
    a = with_career(
        AffiliateFactory(),
        (date(2000, 1, 1), date(2009, 12, 31), "effective"),
        (date(2010, 1, 1), date(2010, 12, 31), "unpaid_leave"),
        (date(2011, 1, 1), None, "effective"),
    )
    client.force_login(ManagerFactory())
    response = client.get(url(a, on="2019-06-01"))
    body = response.content.decode()
    for expected in (
        "Bennani Fatima",
        "بناني فاطمة",
        a.ppr,
        a.cin,
        a.affiliation_number,
        "Tanger",
        "Administrateur de 2e grade",
        "Alaoui Salma",
        "9\xa0000,00",
    ):
        assert expected in body, expected
    # 19 years 5 months since 2000, minus the year of unpaid leave.
    assert "18 ans, 5 mois et 0 jour" in body
    assert "Non comptés : 1 an, 0 mois et 0 jour" in body
    assert "Éligible" in body and "ne compte pas" in body  # the leave line says why
    s = response.context["s"]
    assert s.eligibility.reached_on == date(2018, 12, 31) and not s.eligibility.reached_projected
    assert s.age_limit.reached_on == date(2038, 3, 14)  # born 1975: 63
    assert "estimation" in body and "Valeur non vérifiée" in body


def test_not_yet_eligible_shows_the_projected_date(client):
    a = with_career(AffiliateFactory(), (date(2010, 1, 1), None, "effective"))
    client.force_login(ManagerFactory())
    response = client.get(url(a, on="2026-11-23"))
    s = response.context["s"]
    assert not s.eligibility.eligible
    # 18 years from 2010-01-01: the 30 days of December 2027 are completed on the morning of the 31st.
    assert s.eligibility.reached_on == date(2027, 12, 31) and s.eligibility.reached_projected
    assert "projection" in response.content.decode()


def test_nothing_is_counted_after_the_age_limit(client):
    # Born 1963-06-01: 63 on 2026-06-01. A situation computed for 2030 counts the service to the limit.
    a = with_career(AffiliateFactory(sex="M", birth_date=date(1963, 6, 1), recruitment_date=date(1993, 6, 1)))
    client.force_login(ManagerFactory())
    for on in ("2030-01-01", "2026-06-01"):
        s = client.get(url(a, on=on)).context["s"]
        assert s.service.total == YMD(33), on  # not 36 years 7 months in 2030
        assert s.stop.until == date(2026, 6, 1) and s.stop.cause == "age_limit"
    s = client.get(url(a, on="2030-01-01")).context["s"]
    assert any("1 juin 2026" in line for line in s.eligibility.reasoning)  # counted up to the age limit
    assert s.estimate_at_age_limit.service_before_2017 + s.estimate_at_age_limit.service_from_2017 == YMD(33)
    assert s.estimate_early is None  # past the age limit: no early retirement


def test_a_projection_stops_at_the_age_limit(client):
    # Born 1975-03-14 (63 on 2038-03-14), recruited in 2020: a man's 24 years would come in 2043.
    a = with_career(AffiliateFactory(sex="M", recruitment_date=date(2020, 1, 1)))
    client.force_login(ManagerFactory())
    response = client.get(url(a, on="2026-11-23"))
    s = response.context["s"]
    assert not s.eligibility.eligible and s.eligibility.reached_on is None
    assert "14 mars 2038" in s.eligibility.reasoning[-1]
    assert 'data-testid="threshold-date"' not in response.content.decode()


def test_nothing_is_counted_after_the_end_of_service(client):
    a = with_career(
        AffiliateFactory(status="deceased", service_ended_on=date(2015, 6, 30)), (date(2000, 1, 1), None, "effective")
    )
    client.force_login(ManagerFactory())
    response = client.get(url(a, on="2026-01-01"))
    s = response.context["s"]
    assert s.service.total == YMD(15, 6) and s.stop.until == date(2015, 7, 1)
    assert s.service.lines[0].counted_until == date(2015, 6, 30)
    body = response.content.decode()
    assert "15 ans, 6 mois et 0 jour" in body
    assert 'data-testid="service-ended-on">30 juin 2015<' in body


def test_an_unknown_end_of_service_is_said(client):
    a = with_career(AffiliateFactory(status="left"), (date(2000, 1, 1), None, "effective"))
    client.force_login(ManagerFactory())
    response = client.get(url(a, on="2026-01-01"))
    s = response.context["s"]
    assert s.stop.end_unknown and s.stop.until == date(2026, 1, 1)
    assert s.service.total == YMD(26) and s.eligibility.reached_on is not None  # a past date: a fact
    from affiliates.rules import _stop_lines

    unknown = _stop_lines(s.stop, s.on)  # the line saying the end of service is not recorded
    assert len(unknown) == 1 and unknown[0] in s.eligibility.reasoning
    body = response.content.decode()
    assert escape(unknown[0]) in body
    assert 'data-testid="service-ended-on"><span class="text-warning-emphasis">' in body


def test_the_page_shows_the_counting_conventions_as_not_verified(client):
    a = with_career(AffiliateFactory())
    client.force_login(ManagerFactory())
    response = client.get(url(a, on="2026-01-01"))
    s = response.context["s"]
    assert [p.key for p in s.conventions] == ["service_counting", "month_end_birthday_rule"]
    assert all(p.certainty == "L" and p.unverified for p in s.conventions)
    body = response.content.decode()
    section = body[body.index('data-testid="conventions"'):]
    section = section[: section.index("</section>")]
    for p in s.conventions:
        assert f'data-key="{p.key}" data-certainty="L"' in section
        assert str(p.note)[:40] in section.replace("&#x27;", "'")
    assert section.count('data-testid="not-verified"') == 2
    assert "1972" in section and "(certitude L)" in section


def test_each_consultation_is_audited(client):
    a = with_career(AffiliateFactory())
    manager = ManagerFactory()
    client.force_login(manager)
    client.get(url(a))
    client.get(url(a))
    events = AuditEvent.objects.filter(action="affiliate.consulted", target_id=str(a.pk))
    assert events.count() == 2
    assert events.first().actor == manager and events.first().target_type == "affiliates.affiliate"


def test_provincial_office_consultation_is_on_behalf_of_the_commune(client):
    a = with_career(AffiliateFactory())
    client.force_login(ProvincialOfficeFactory())
    assert client.get(url(a)).status_code == 200
    assert AuditEvent.objects.get(action="affiliate.consulted").on_behalf_of == a.collectivity


def test_another_collectivitys_affiliate_is_a_404_that_says_nothing(client):
    a = with_career(
        AffiliateFactory(collectivity=other_commune(), last_name_fr="Zemmouri", cin="QQ123456")
    )
    client.force_login(ManagerFactory())
    response = client.get(url(a))
    assert response.status_code == 404
    body = response.content.decode()
    assert "Zemmouri" not in body and "QQ123456" not in body
    assert not AuditEvent.objects.filter(action="affiliate.consulted").exists()


def test_consulting_needs_the_capability(client):
    a = with_career(AffiliateFactory())
    client.force_login(AgentFactory(can_consult_affiliates=False))
    assert client.get(url(a)).status_code == 403
    client.force_login(CmrAgentFactory())  # the CMR keeps the registry: its agents consult it
    assert client.get(url(a)).status_code == 200


@pytest.mark.parametrize("periods", [1, 3, 9])
def test_situation_page_query_count_is_fixed(client, django_assert_num_queries, periods):
    a = AffiliateFactory()
    spans = [
        (date(2000 + 2 * i, 1, 1), date(2001 + 2 * i, 12, 31), "effective") for i in range(periods)
    ]
    with_career(a, *spans, salaries=[(date(2000 + i, 1, 1), "5000") for i in range(periods)])
    client.force_login(ManagerFactory())
    # session, user, the second factor's device (still there?), user's collectivity (header),
    # affiliate+employer, periods, salaries, family, corrections, changes, the audit event with its person
    # (one statement)
    with django_assert_num_queries(11):
        assert client.get(url(a)).status_code == 200


def test_affiliates_reaching_the_age_limit_within_a_year():
    from affiliates.selectors import approaching_age_limit

    on = date(2026, 11, 23)
    soon = AffiliateFactory(birth_date=date(1964, 2, 29))  # 63 on 2027-02-28
    later = AffiliateFactory(birth_date=date(1965, 1, 1))  # 63 on 2028-01-01
    extended = AffiliateFactory(
        birth_date=date(1963, 6, 1), age_limit_extended_until=date(2029, 1, 1)
    )
    professor = AffiliateFactory(birth_date=date(1962, 3, 1), research_professor=True)  # 65 in 2027
    AffiliateFactory(birth_date=date(1964, 3, 1), status="retired")
    AffiliateFactory(birth_date=date(1964, 3, 1), collectivity=other_commune())
    found = list(approaching_age_limit(ManagerFactory(), on=on))
    assert found == [professor, soon]
    assert later not in found and extended not in found


def test_pages_render_in_arabic(client):
    a = with_career(AffiliateFactory())
    client.force_login(ManagerFactory())
    client.cookies["django_language"] = "ar"
    body = client.get(url(a)).content.decode()
    assert 'dir="rtl"' in body and "بناني فاطمة" in body
    search = client.get(reverse("affiliates:search"), {"q": "بناني"}).content.decode()
    assert 'dir="rtl"' in search and f'href="/affiliates/{a.pk}/"' in search


def test_the_correction_form_is_offered_to_officers_only(client):
    a = with_career(AffiliateFactory())
    client.force_login(ManagerFactory())
    assert "Demander une correction" in client.get(url(a)).content.decode()
    form = client.get(reverse("affiliates:correction_new", args=[a.pk]), {"field": "grade"})
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode()


def test_navigation_shows_affiliates_and_corrections_by_role(client):
    # A collectivity's officers follow their own correction requests from the navigation bar.
    client.force_login(ManagerFactory())
    body = client.get(reverse("affiliates:search")).content.decode()
    assert reverse("affiliates:search") in body and f'href="{reverse("affiliates:corrections")}"' in body
    client.force_login(AgentFactory(can_consult_affiliates=False))
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("affiliates:corrections")}"' not in body
    client.force_login(CmrAgentFactory())
    body = client.get(reverse("affiliates:corrections")).content.decode()
    assert reverse("affiliates:corrections") in body
