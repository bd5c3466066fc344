"""The REST API: same selectors and services as the pages, token authentication, scoping."""

from datetime import date
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from affiliates.models import CorrectionRequest
from tests.affiliates.factories import PDF_BYTES, AffiliateFactory, with_career
from tests.factories import AgentFactory, CmrAgentFactory, ManagerFactory, other_commune
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db


def api_for(user):
    out = StringIO()
    call_command("create_api_token", user.username, stdout=out)
    token = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_create_api_token_prints_a_new_key_each_time_and_rotates():
    manager = ManagerFactory()
    first, again, rotated = StringIO(), StringIO(), StringIO()
    call_command("create_api_token", manager.username, stdout=first)
    call_command("create_api_token", manager.username, "--name", "other", stdout=again)
    call_command("create_api_token", manager.username, "--rotate", stdout=rotated)
    keys = [out.getvalue().strip() for out in (first, again, rotated)]
    assert all(key.startswith("ert_") and len(key) > 40 for key in keys) and len(set(keys)) == 3
    assert [api_for_key(key).get("/api/v1/affiliates/", {"q": "AB12345"}).status_code for key in keys] == [
        401, 200, 200]  # --rotate revoked the first one ("command line"), not the other
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody")


def api_for_key(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_search_by_identifier_and_by_name():
    a = AffiliateFactory(cin="AB12345")
    AffiliateFactory(collectivity=other_commune(), cin="CD99999")
    api = api_for(ManagerFactory())
    body = api.get("/api/v1/affiliates/", {"q": "ab 012345"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == a.pk
    assert body["results"][0]["collectivity"]["code"] == "01.511.01.0"
    assert api.get("/api/v1/affiliates/", {"q": "CD99999"}).json()["count"] == 0
    assert api.get("/api/v1/affiliates/", {"q": "benani fatma"}).json()["results"][0]["id"] == a.pk


@pytest.mark.parametrize("q", ["", "a", "x" * 1000, "!!!", "ABC123456"])
def test_bad_queries_are_400_with_a_message(q):
    response = api_for(ManagerFactory()).get("/api/v1/affiliates/", {"q": q})
    assert response.status_code == 400
    assert response.json()["q"][0]


def test_detail_and_eligibility_are_audited_and_scoped():
    a = with_career(AffiliateFactory(), (date(2000, 1, 1), None, "effective"))
    elsewhere = with_career(AffiliateFactory(collectivity=other_commune(), last_name_fr="Zemmouri"))
    api = api_for(ManagerFactory())
    detail = api.get(f"/api/v1/affiliates/{a.pk}/").json()
    assert detail["ppr"] == a.ppr and detail["periods"][0]["counts"] is True
    assert detail["family"][0]["relation"] in ("child", "spouse")
    e = api.get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "2017-12-30"}).json()
    assert e["article_4"]["eligible"] is False
    # Since 2000-01-01, on the morning of 2017-12-30: 17 years, 11 months and the 29 days of December
    # before the 30th; on the 31st the 30 days of December make 18 years (the 31st counts nothing).
    assert e["effective_service"]["total"] == {"years": 17, "months": 11, "days": 29}
    assert e["article_4"]["threshold_reached_on"] == "2017-12-31"
    assert e["estimate"]["is_estimate"] is True
    assert e["age_limit"]["reached_on"] == "2038-03-14"
    e = api.get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "2017-12-31"}).json()
    assert e["article_4"]["eligible"] is True
    assert e["effective_service"]["total"] == {"years": 18, "months": 0, "days": 0}
    assert AuditEvent.objects.filter(action="affiliate.consulted", target_id=str(a.pk)).count() == 3
    for path in (
        f"/api/v1/affiliates/{elsewhere.pk}/",
        f"/api/v1/affiliates/{elsewhere.pk}/eligibility/",
    ):
        response = api.get(path)
        assert response.status_code == 404 and "Zemmouri" not in response.content.decode()
    assert api.get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "tomorrow"}).status_code == 400
    assert api.get("/api/v1/affiliates/abc/").status_code == 404


def test_the_api_shows_the_counting_conventions_as_not_verified():
    a = with_career(AffiliateFactory(), (date(2000, 1, 1), None, "effective"))
    e = api_for(ManagerFactory()).get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "2026-01-01"}).json()
    conventions = {c["key"]: c for c in e["conventions"]}
    assert set(conventions) == {"service_counting", "month_end_birthday_rule"}
    for c in conventions.values():
        assert c["certainty"] == "L" and c["verified"] is False
        assert c["effective_from"] == "1972-01-01" and c["source"] and c["description"] and c["value"]
    assert conventions["service_counting"]["value"] == "30_day_months"
    assert e["counting_stop"] == {
        "until": "2038-03-14", "cause": "age_limit", "service_ended_on": None, "end_unknown": False}


def test_the_api_counts_nothing_after_the_end_of_service():
    a = with_career(
        AffiliateFactory(status="left", service_ended_on=date(2015, 6, 30)), (date(2000, 1, 1), None, "effective")
    )
    api = api_for(ManagerFactory())
    assert api.get(f"/api/v1/affiliates/{a.pk}/").json()["service_ended_on"] == "2015-06-30"
    e = api.get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "2026-01-01"}).json()
    assert e["effective_service"]["total"] == {"years": 15, "months": 6, "days": 0}
    assert e["effective_service"]["periods"][0]["counted_until"] == "2015-06-30"
    assert e["counting_stop"]["until"] == "2015-07-01" and e["counting_stop"]["cause"] == "end_of_service"
    assert e["article_4"]["threshold_reached_on"] is None
    assert e["estimate"]["service_before_2017"] == {"years": 15, "months": 6, "days": 0}
    assert e["estimate"]["service_from_2017"] == {"years": 0, "months": 0, "days": 0}


def test_no_token_no_capability_no_data():
    a = AffiliateFactory()
    assert APIClient().get(f"/api/v1/affiliates/{a.pk}/").status_code in (401, 403)
    assert (
        api_for(AgentFactory(can_consult_affiliates=False))
        .get("/api/v1/affiliates/", {"q": a.cin})
        .status_code
        == 403
    )


def test_corrections_through_the_api(pki_settings, signed_pdf):  # noqa: F811
    a = AffiliateFactory()
    officer, cmr = api_for(ManagerFactory(username="AB123456")), api_for(CmrAgentFactory())
    bad = officer.post(
        "/api/v1/correction-requests/",
        {
            "affiliate": a.pk,
            "field": "grade",
            "proposed_value": "Administrateur de 3e grade",
            "reason": "Promotion order of 2024",
            "document": SimpleUploadedFile("x.pdf", b"not a pdf"),
        },
        format="multipart",
    )
    assert bad.status_code == 400 and "pas un fichier PDF" in bad.json()["document"][0]
    assert not CorrectionRequest.objects.exists()
    unsigned = officer.post(
        "/api/v1/correction-requests/",
        {
            "affiliate": a.pk,
            "field": "grade",
            "proposed_value": "Administrateur de 3e grade",
            "reason": "Promotion order of 2024",
            "document": SimpleUploadedFile("x.pdf", sample_pdf("Arrêté de promotion")),
        },
        format="multipart",
    )
    assert unsigned.status_code == 400 and "ne porte aucune signature" in unsigned.json()["document"][0]
    created = officer.post(
        "/api/v1/correction-requests/",
        {
            "affiliate": a.pk,
            "field": "grade",
            "proposed_value": "Administrateur de 3e grade",
            "reason": "Promotion order of 2024",
            "document": SimpleUploadedFile("x.pdf", signed_pdf(cin="AB123456", text="Arrêté de promotion")),
        },
        format="multipart",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert officer.post(f"/api/v1/correction-requests/{pk}/accept/").status_code == 403
    assert cmr.get("/api/v1/correction-requests/", {"status": "pending"}).json()["count"] == 1
    refused = cmr.post(f"/api/v1/correction-requests/{pk}/refuse/", {"reason": ""}, format="json")
    assert refused.status_code == 400
    accepted = cmr.post(f"/api/v1/correction-requests/{pk}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert officer.get(f"/api/v1/correction-requests/{pk}/").json()["status"] == "accepted"
    a.refresh_from_db()
    assert a.grade == "Administrateur de 3e grade"
    other = api_for(ManagerFactory(collectivity=other_commune()))
    assert other.get(f"/api/v1/correction-requests/{pk}/").status_code == 404
    assert (
        other.post(
            "/api/v1/correction-requests/",
            {
                "affiliate": a.pk,
                "field": "step",
                "proposed_value": "6",
                "reason": "r",
                "document": SimpleUploadedFile("x.pdf", PDF_BYTES),
            },
            format="multipart",
        ).status_code
        == 404
    )


def test_exact_lookup_uses_a_fixed_number_of_queries(django_assert_num_queries):
    a = AffiliateFactory()
    api = api_for(ManagerFactory())
    api.get("/api/v1/affiliates/", {"q": a.ppr})  # the token's first use is written (then once a minute)
    with django_assert_num_queries(3):  # token with its user, the lookup, the trail (the event and its person: one)
        assert api.get("/api/v1/affiliates/", {"q": a.ppr}).json()["count"] == 1


def test_search_results_match_the_documented_serializer():
    from affiliates.serializers import AffiliateListSerializer, affiliate_summary

    a = AffiliateFactory()
    assert affiliate_summary(a) == dict(AffiliateListSerializer(a).data)


def test_bad_tokens_and_disabled_accounts_are_refused():
    manager = ManagerFactory()
    api = api_for(manager)
    assert api.get("/api/v1/affiliates/", {"q": "AB12345"}).status_code == 200
    manager.is_active = False
    manager.save()
    response = api.get("/api/v1/affiliates/", {"q": "AB12345"})
    assert response.status_code == 401 and response.json()["detail"]
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert forged.get("/api/v1/affiliates/", {"q": "AB12345"}).status_code == 401
