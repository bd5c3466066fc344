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
    assert e["effective_service"]["total"] == {"years": 17, "months": 11, "days": 29}
    assert e["article_4"]["threshold_reached_on"] == "2018-01-01"
    assert e["estimate"]["is_estimate"] is True
    assert e["age_limit"]["reached_on"] == "2038-03-14"
    e = api.get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "2018-01-01"}).json()
    assert e["article_4"]["eligible"] is True
    assert AuditEvent.objects.filter(action="affiliate.consulted", target_id=str(a.pk)).count() == 3
    for path in (
        f"/api/v1/affiliates/{elsewhere.pk}/",
        f"/api/v1/affiliates/{elsewhere.pk}/eligibility/",
    ):
        response = api.get(path)
        assert response.status_code == 404 and "Zemmouri" not in response.content.decode()
    assert api.get(f"/api/v1/affiliates/{a.pk}/eligibility/", {"on": "tomorrow"}).status_code == 400
    assert api.get("/api/v1/affiliates/abc/").status_code == 404


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
    with django_assert_num_queries(4):  # token with its user, the lookup, the trail (the event, the person)
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
