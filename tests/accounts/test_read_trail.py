"""The law 09-08 trail: every read of personal data (search results, affiliate and dossier pages and
lists, each document and slip, API reads, admin pages and edits with old and new values) is an audit
event naming the persons it showed, with the client's real address; the privacy officer filters it,
exports it to XLSX, and reads one person's report. The admin cannot rewrite a dossier or delete one."""

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Collectivity
from dossiers import services
from dossiers.models import Dossier
from tests.affiliates.factories import AffiliateFactory
from tests.dossiers.conftest import BASIC, affiliate, fill, officers  # noqa: F401
from tests.factories import (
    AgentFactory,
    CmrAgentFactory,
    DgctAdminFactory,
    ManagerFactory,
    api_client_for,
    other_commune,
)
from tests.pki import pki, pki_settings, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).prefetch_related("subjects").order_by("pk"))


def persons(event):
    return sorted(s.affiliate_id for s in event.subjects.all())


def test_search_results_name_who_was_shown(client):
    manager = ManagerFactory()
    shown = [AffiliateFactory(last_name_fr="Bennani", first_name_fr="Fatima") for _ in range(3)]
    AffiliateFactory(last_name_fr="Bennani", collectivity=other_commune())  # not his: not shown
    client.force_login(manager)
    client.get(reverse("affiliates:search"), {"q": "bennani fatima"}, REMOTE_ADDR="192.0.2.10")
    (event,) = events("affiliate.searched")
    assert event.actor == manager and event.ip == "192.0.2.10" and event.data["q"] == "bennani fatima"
    assert event.data["shown"] == 3 and event.data["channel"] == "web"
    assert persons(event) == sorted(a.pk for a in shown)
    # an empty form or a refused query showed nobody: nothing to record
    client.get(reverse("affiliates:search"))
    client.get(reverse("affiliates:search"), {"q": "x" * 300})
    assert len(events("affiliate.searched")) == 1


def test_api_reads_are_recorded_with_their_channel():
    manager = ManagerFactory()
    person = AffiliateFactory()
    api = api_client_for(manager, scope="read")
    api.get("/api/v1/affiliates/", {"q": person.affiliation_number}, REMOTE_ADDR="192.0.2.11")
    api.get(f"/api/v1/affiliates/{person.pk}/")
    (search,) = events("affiliate.searched")
    assert search.data["channel"] == "api" and persons(search) == [person.pk] and search.ip == "192.0.2.11"
    (consulted,) = events("affiliate.consulted")
    assert consulted.data["channel"] == "api" and persons(consulted) == [person.pk]


def test_dossier_pages_lists_documents_and_slips_are_recorded(client, officers, affiliate, signed_pdf):  # noqa: F811
    manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(agent, dossier, signed_pdf)
    services.submit(agent, dossier.pk)
    services.certify(manager, dossier.pk)
    client.force_login(manager)
    client.get(reverse("dossiers:list"))
    client.get(reverse("dossiers:detail", args=[dossier.pk]))
    document = dossier.documents.first()
    client.get(reverse("dossiers:document", args=[dossier.pk, document.pk]))
    client.get(reverse("dossiers:slip", args=[dossier.pk, 1]))
    for action in ("dossier.listed", "dossier.viewed", "document.downloaded", "slip.downloaded"):
        (event,) = events(action)
        assert persons(event) == [affiliate.pk] and event.actor == manager, action
        assert event.collectivity_id == dossier.collectivity_id or action == "dossier.listed"
    assert events("document.downloaded")[0].data["file"] == document.original_name
    # through the API too
    api = api_client_for(manager, scope="read")
    api.get(f"/api/v1/dossiers/{dossier.pk}/")
    api.get("/api/v1/dossiers/")
    assert [e.data["channel"] for e in events("dossier.viewed")] == ["web", "api"]
    assert [e.data["channel"] for e in events("dossier.listed")] == ["web", "api"]


def test_a_provincial_office_reads_on_behalf_of_the_commune(client):
    from tests.factories import ProvincialOfficeFactory

    office = ProvincialOfficeFactory()
    person = AffiliateFactory()
    client.force_login(office)
    client.get(reverse("affiliates:situation", args=[person.pk]))
    (event,) = events("affiliate.consulted")
    assert event.on_behalf_of == person.collectivity


def test_admin_views_lists_and_edits_with_old_and_new_values(client):
    admin = DgctAdminFactory(is_superuser=True)
    person = AffiliateFactory(first_name_fr="Fatima")
    client.force_login(admin)
    client.get(f"/admin/affiliates/affiliate/{person.pk}/change/")
    (viewed,) = events("admin.viewed")
    assert persons(viewed) == [person.pk] and viewed.data["channel"] == "admin"
    client.get("/admin/affiliates/affiliate/", {"q": person.affiliation_number})
    (listed,) = events("admin.listed")
    assert persons(listed) == [person.pk]
    form = client.get(f"/admin/affiliates/affiliate/{person.pk}/change/").context["adminform"].form
    import datetime as dt

    data = {}
    for name, value in form.initial.items():
        if isinstance(value, dt.datetime):  # the admin's split date and time
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = local.date().isoformat(), local.strftime("%H:%M:%S")
        elif not isinstance(value, list):
            data[name] = "" if value is None else value
    data.update({"first_name_fr": "Fatiha", "collectivity": person.collectivity_id})
    for prefix in ("periods", "salaries", "family"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    answer = client.post(f"/admin/affiliates/affiliate/{person.pk}/change/", data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors if answer.context else answer
    (changed,) = events("admin.changed")
    assert changed.data["changes"]["first_name_fr"] == ["Fatima", "Fatiha"] and persons(changed) == [person.pk]


def test_the_admin_rewrites_no_dossier_and_deletes_none(client, officers, affiliate):  # noqa: F811
    _manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    admin = DgctAdminFactory(is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/dossiers/dossier/{dossier.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert not {"collectivity", "affiliate", "kind", "created_by", "submitted_by", "certified_by"} & set(form.fields)
    stranger = other_commune()
    client.post(f"/admin/dossiers/dossier/{dossier.pk}/change/", {"collectivity": stranger.pk, "events-TOTAL_FORMS": 0,
                                                                  "events-INITIAL_FORMS": 0})
    dossier.refresh_from_db()
    assert dossier.collectivity_id != stranger.pk
    assert client.post(f"/admin/dossiers/dossier/{dossier.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Dossier.objects.filter(pk=dossier.pk).exists()
    tanger = Collectivity.objects.get(code="01.511.01.0")
    assert client.post(f"/admin/accounts/collectivity/{tanger.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_admin_decides_no_correction_request(client, officers, affiliate, pki_settings):  # noqa: F811
    from affiliates.models import CorrectionRequest

    _manager, agent = officers
    request = CorrectionRequest.objects.create(affiliate=affiliate, field="step", current_value="5",
                                               proposed_value="6", reason="r", requested_by=agent,
                                               document_size=1, document_sha256="0" * 64)
    client.force_login(DgctAdminFactory(is_superuser=True))
    page = client.get(f"/admin/affiliates/correctionrequest/{request.pk}/change/")
    assert "status" not in page.context["adminform"].form.fields
    client.post(f"/admin/affiliates/correctionrequest/{request.pk}/change/", {"status": "accepted"})
    request.refresh_from_db()
    assert request.status == CorrectionRequest.Status.PENDING


def test_only_a_privacy_officer_reads_the_trail(client):
    for account, status in ((ManagerFactory(), 403), (DgctAdminFactory(), 403), (CmrAgentFactory(), 403),
                            (AgentFactory(), 403), (DgctAdminFactory(is_privacy_officer=True), 200),
                            (CmrAgentFactory(is_privacy_officer=True), 200)):
        client.force_login(account)
        assert client.get(reverse("privacy:trail")).status_code == status, account.role
        assert client.get(reverse("privacy:export")).status_code == status
    # a manager flagged by mistake gets nothing: the flag counts only for the DGCT and the CMR
    client.force_login(ManagerFactory(is_privacy_officer=True, collectivity=other_commune()))
    assert client.get(reverse("privacy:trail")).status_code == 403


def test_the_privacy_officer_filters_exports_and_reads_a_persons_report(client):
    officer = DgctAdminFactory(is_privacy_officer=True)
    manager = ManagerFactory(full_name="Karim El Idrissi")
    person, other = AffiliateFactory(), AffiliateFactory()
    client.force_login(manager)
    client.get(reverse("affiliates:situation", args=[person.pk]))
    client.get(reverse("affiliates:situation", args=[other.pk]))
    client.force_login(officer)
    page = client.get(reverse("privacy:trail"), {"person": person.affiliation_number, "reads_only": "on"},
                      HTTP_ACCEPT_LANGUAGE="ar")
    html = page.content.decode()
    assert page.status_code == 200 and 'dir="rtl"' in html and "Karim El Idrissi" in html
    assert len(page.context["page"].object_list) == 1
    export = client.get(reverse("privacy:export"), {"account": "karim"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert export["Content-Disposition"].startswith("attachment") and export["X-Content-Type-Options"] == "nosniff"
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Date", "Compte", "Action")  # the header, in the reader's language
    assert len(rows) == 3 and all(row[2] == "affiliate.consulted" for row in rows[1:])
    report = client.get(reverse("privacy:person", args=[person.pk]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Karim El Idrissi" in report.content.decode() and len(report.context["page"].object_list) == 1
    # reading the trail is in the trail
    assert AuditEvent.objects.filter(actor=officer, action__in=("audit.viewed", "audit.exported")).count() == 3


@pytest.mark.parametrize("params", [{"since": "2026-13-45"}, {"since": "2026-12-01", "until": "2026-11-01"},
                                    {"person": "nobody"}, {"person": "x" * 300}, {"account": "a\x00b"}])
def test_bad_filters_are_told_not_a_500(client, params):
    client.force_login(DgctAdminFactory(is_privacy_officer=True))
    answer = client.get(reverse("privacy:trail"), params, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code in (200, 400)
    if answer.status_code == 200:
        assert "invalid-feedback" in answer.content.decode()


def test_correction_requests_read_are_recorded(client, officers, affiliate):  # noqa: F811
    from affiliates.models import CorrectionRequest

    _manager, agent = officers
    item = CorrectionRequest.objects.create(affiliate=affiliate, field="step", current_value="5", proposed_value="6",
                                            reason="r", requested_by=agent, document_size=1,
                                            document_sha256="0" * 64)
    cmr = CmrAgentFactory()
    client.force_login(cmr)
    client.get(reverse("affiliates:corrections"))
    client.get(reverse("affiliates:correction", args=[item.pk]))
    api = api_client_for(cmr, scope="read")
    api.get("/api/v1/correction-requests/")
    api.get(f"/api/v1/correction-requests/{item.pk}/")
    assert [(e.data["channel"], persons(e)) for e in events("correction.listed")] == [
        ("web", [affiliate.pk]), ("api", [affiliate.pk])]
    assert [e.data["channel"] for e in events("correction.viewed")] == ["web", "api"]


def test_a_token_narrowed_to_one_commune_reaches_no_other_communes_corrections(officers, affiliate):  # noqa: F811
    from affiliates.models import CorrectionRequest

    _manager, agent = officers
    here = CorrectionRequest.objects.create(affiliate=affiliate, field="step", current_value="5", proposed_value="6",
                                            reason="r", requested_by=agent, document_size=1, document_sha256="0" * 64)
    elsewhere_person = AffiliateFactory(collectivity=other_commune())
    there = CorrectionRequest.objects.create(affiliate=elsewhere_person, field="step", current_value="5",
                                             proposed_value="6", reason="r", requested_by=agent, document_size=1,
                                             document_sha256="0" * 64)
    narrow = api_client_for(CmrAgentFactory(), collectivity=affiliate.collectivity)
    listed = narrow.get("/api/v1/correction-requests/").json()["results"]
    assert [item["id"] for item in listed] == [here.pk]
    assert narrow.get(f"/api/v1/correction-requests/{there.pk}/").status_code == 404
    assert narrow.post(f"/api/v1/correction-requests/{there.pk}/accept/").status_code == 404
    there.refresh_from_db()
    assert there.status == CorrectionRequest.Status.PENDING


def test_a_reset_account_loses_its_api_tokens(client):
    from accounts import api_tokens, second_factor

    manager = ManagerFactory()
    agent = AgentFactory(created_by=manager)
    _token, key = api_tokens.issue(agent, name="x")
    second_factor.reset_account(agent, by=manager)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/affiliates/", {"q": "AB12345"}).status_code == 401


def test_the_privacy_report_is_by_id_only(client):
    officer = DgctAdminFactory(is_privacy_officer=True)
    first = AffiliateFactory()
    client.force_login(officer)
    assert client.get(reverse("privacy:person", args=[first.pk])).context["person"] == first
    # the filter box reads identifiers, never an id: "1" is nobody's number
    answer = client.get(reverse("privacy:trail"), {"person": str(first.pk)}, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.context["person"] is None and "invalid-feedback" in answer.content.decode()
    for hostile in ("²", "٣", "1" * 40):
        assert client.get(reverse("privacy:trail"), {"person": hostile, "until": "9999-12-31"}).status_code == 200


def test_the_home_page_names_people_and_is_recorded(client):
    from datetime import date

    from dossiers.selectors import approaching_without_dossier
    from tests.affiliates.factories import with_career

    agent = AgentFactory(can_consult_affiliates=True, can_prepare_dossiers=True)
    near = with_career(AffiliateFactory(birth_date=date(1964, 6, 1)))
    assert near in approaching_without_dossier(agent)  # the home page shows him
    client.force_login(agent)
    assert near.last_name_fr in client.get(reverse("home")).content.decode()
    (listed,) = events("affiliate.listed")
    assert persons(listed) == [near.pk] and listed.data["page"] == "home"


def test_an_admin_page_of_a_dossiers_part_names_the_dossiers_person(client, officers, affiliate):  # noqa: F811
    from dossiers.models import Event

    _manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    event = Event.objects.filter(dossier=dossier).first()
    from accounts.admin_audit import affiliates_of

    assert affiliates_of(event) == [affiliate.pk] and affiliates_of(dossier) == [affiliate.pk]
    client.force_login(DgctAdminFactory(is_superuser=True))
    client.get(f"/admin/dossiers/dossier/{dossier.pk}/change/")
    assert persons(events("admin.viewed")[0]) == [affiliate.pk]
