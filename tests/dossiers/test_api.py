"""The dossier API: the journey, refusals with reasons, roles, scoping, the schema."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from dossiers.models import Document, Dossier
from tests.affiliates.factories import AffiliateFactory
from tests.dossiers.conftest import BASIC
from tests.factories import ManagerFactory, api_client_for, other_commune

pytestmark = pytest.mark.django_db



def api(user):
    return api_client_for(user)


def upload(client, pk, code, data, name="x.pdf"):
    return client.post(f"/api/v1/dossiers/{pk}/documents/",
                       {"item": code, "file": SimpleUploadedFile(name, data, "application/pdf")}, format="multipart")


def test_api_journey(officers, affiliate, signed_pdf):
    manager, agent = officers
    a, m = api(agent), api(manager)
    r = a.post("/api/v1/dossiers/", {"affiliate": affiliate.pk, "kind": "age_limit"}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["status"] == "draft" and any(line["item"] == "rib" for line in r.json()["checklist"])

    again = a.post("/api/v1/dossiers/", {"affiliate": affiliate.pk, "kind": "age_limit"}, format="json")
    assert again.status_code == 400 and again.json()["reasons"]

    r = a.post(f"/api/v1/dossiers/{pk}/submit/", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "incomplete"

    for code in BASIC[:-1]:
        r = upload(a, pk, code, signed_pdf(cin="CD789012", text=code), f"{code}.pdf")
        assert r.status_code == 201 and r.json()["verdict"] == "OK", r.content
    assert a.post(f"/api/v1/dossiers/{pk}/submit/", {}, format="json").status_code == 200

    r = m.post(f"/api/v1/dossiers/{pk}/certify/")
    assert r.status_code == 400 and r.json()["code"] == "incomplete" and len(r.json()["reasons"]) >= 1
    assert Dossier.objects.get().state == "awaiting_certification"

    assert a.post(f"/api/v1/dossiers/{pk}/certify/").status_code == 403  # no certifying authority
    assert Dossier.objects.get().state == "awaiting_certification"
    from dossiers import services

    services.apply_transition(pk, "return", by=manager, reason="RIB missing")
    assert upload(a, pk, "rib", signed_pdf(cin="CD789012", text="rib")).status_code == 201
    assert a.post(f"/api/v1/dossiers/{pk}/submit/", {}, format="json").status_code == 200
    r = m.post(f"/api/v1/dossiers/{pk}/certify/")
    assert r.status_code == 200 and r.json()["status"] == "certified"

    detail = m.get(f"/api/v1/dossiers/{pk}/").json()
    assert all(d["verdict"] == "OK" for line in detail["checklist"] for d in line["documents"])
    assert [e["action"] for e in detail["timeline"]][-1] == "certify" and "cmr_reference" in detail
    listing = m.get("/api/v1/dossiers/?status=certified&kind=age_limit").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == pk
    assert m.get("/api/v1/dossiers/?status=draft").json()["count"] == 0


def test_api_refused_file_and_scoping(officers, affiliate, signed_pdf):
    _manager, agent = officers
    a = api(agent)
    pk = a.post("/api/v1/dossiers/", {"affiliate": affiliate.pk, "kind": "age_limit"}, format="json").json()["id"]
    r = upload(a, pk, "rib", b"%PDF-1.7\n" + b"0" * (25 * 1024 * 1024), "big.pdf")
    assert r.status_code == 400 and r.json()["code"] == "TOO_LARGE"
    data = signed_pdf(cin="CD789012")
    assert upload(a, pk, "rib", data).status_code == 201
    r = upload(a, pk, "cin", data)
    assert r.status_code == 400 and r.json()["code"] == "duplicate"
    assert Document.objects.count() == 1

    stranger = api(ManagerFactory(collectivity=other_commune()))
    assert stranger.get(f"/api/v1/dossiers/{pk}/").status_code == 404
    r = upload(stranger, pk, "cin", signed_pdf(cin="CD789012", text="other"))
    assert r.status_code == 404 and b"rib" not in r.content
    assert stranger.post(f"/api/v1/dossiers/{pk}/submit/").status_code == 404
    assert stranger.get("/api/v1/dossiers/").json()["count"] == 0
    foreign = AffiliateFactory(collectivity=other_commune())
    assert a.post("/api/v1/dossiers/", {"affiliate": foreign.pk, "kind": "age_limit"},
                  format="json").status_code == 404
    assert Document.objects.count() == 1 and Dossier.objects.count() == 1


def test_api_needs_a_token():
    assert APIClient().get("/api/v1/dossiers/").status_code in (401, 403)


def test_schema_is_generated(client, officers):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"/api/v1/dossiers/{id}/documents/" in response.content
