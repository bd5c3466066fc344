"""Dossier pages: opening from the situation page, upload, workflow buttons, scoping, list queries."""

import pytest
from django.urls import reverse

from dossiers import services
from dossiers.models import Document, Dossier
from tests.dossiers.conftest import BASIC, near_age_limit
from tests.factories import ManagerFactory, other_commune

pytestmark = pytest.mark.django_db



def open_(user, affiliate, code="age_limit"):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code=code)


def upload(client, dossier, code, data, name="x.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("dossiers:upload", args=[dossier.pk]),
                       {"item": code, "files": [SimpleUploadedFile(name, data, "application/pdf")]},
                       HTTP_ACCEPT="application/json")


def test_open_from_the_situation_page_and_refusal_shown(client, officers, affiliate):
    _manager, agent = officers
    client.force_login(agent)
    page = client.get(reverse("affiliates:situation", args=[affiliate.pk]))
    block = reverse("dossiers:affiliate_block", args=[affiliate.pk])
    assert block.encode() in page.content  # loaded by htmx
    assert b'data-testid="open-dossier"' in client.get(block).content
    response = client.post(reverse("dossiers:open", args=[affiliate.pk]), {"kind": "age_limit"})
    dossier = Dossier.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("dossiers:detail", args=[dossier.pk])
    response = client.post(reverse("dossiers:open", args=[affiliate.pk]), {"kind": "age_limit"}, follow=True)
    assert Dossier.objects.count() == 1
    assert b"alert-danger" in response.content
    assert b"dossier-link" in client.get(block).content
    client.force_login(ManagerFactory(collectivity=other_commune()))
    assert client.get(block).status_code == 404


def test_page_upload_submit_certify(client, officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    for code in BASIC:
        r = upload(client, dossier, code, signed_pdf(cin="CD789012", text=code), f"{code}.pdf")
        assert r.status_code == 200 and r.json()["results"][0]["accepted"], r.content
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert page.content.count(b'data-testid="document"') == 7 and b"action-submit" in page.content
    client.post(reverse("dossiers:act", args=[dossier.pk, "submit"]))
    assert Dossier.objects.get().state == "awaiting_certification"
    # the agent may not certify: nothing changes, confirmed or not
    client.post(reverse("dossiers:act", args=[dossier.pk, "certify"]), {"confirmed": "1"})
    assert Dossier.objects.get().state == "awaiting_certification"
    client.force_login(manager)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert b"action-certify" in page.content
    client.post(reverse("dossiers:act", args=[dossier.pk, "certify"]), {"confirmed": "1"})
    assert Dossier.objects.get().state == "certified"
    slip = client.get(reverse("dossiers:slip", args=[dossier.pk, 1]))
    assert slip.status_code == 200 and "attachment" in slip["Content-Disposition"]
    doc = Document.objects.first()
    got = client.get(reverse("dossiers:document", args=[dossier.pk, doc.pk]))
    assert "attachment" in got["Content-Disposition"] and b"".join(got.streaming_content).startswith(b"%PDF")


def test_another_collectivitys_dossier_and_document_are_404(client, officers, affiliate, signed_pdf):
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    document, _ = services.add_document(agent, dossier.pk, item_code="rib", filename="rib.pdf",
                                        data=signed_pdf(cin="CD789012"))
    stranger = ManagerFactory(collectivity=other_commune())
    client.force_login(stranger)
    for url in [reverse("dossiers:detail", args=[dossier.pk]),
                reverse("dossiers:document", args=[dossier.pk, document.pk])]:
        response = client.get(url)
        assert response.status_code == 404 and b"rib.pdf" not in response.content
    for data in ({}, {"confirmed": "1"}):
        assert client.post(reverse("dossiers:document_remove", args=[dossier.pk, document.pk]),
                           data).status_code == 404
        assert client.post(reverse("dossiers:act", args=[dossier.pk, "cancel"]),
                           {"reason": "x", **data}).status_code == 404
    assert Document.objects.count() == 1 and Dossier.objects.get().state == "draft"


def test_big_and_duplicate_uploads_refused(client, officers, affiliate, signed_pdf):
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(agent)
    big = upload(client, dossier, "rib", b"%PDF-1.7\n" + b"0" * (25 * 1024 * 1024), "big.pdf")
    assert big.status_code == 400 and big.json()["results"][0]["code"] == "TOO_LARGE"
    data = signed_pdf(cin="CD789012", text="RIB")
    assert upload(client, dossier, "rib", data).status_code == 200
    again = upload(client, dossier, "cin", data)
    assert again.status_code == 400 and again.json()["results"][0]["code"] == "duplicate"
    assert Document.objects.count() == 1


def test_list_queries_do_not_grow(client, officers, django_assert_max_num_queries):
    manager, agent = officers
    client.force_login(manager)
    for _i in range(3):
        open_(agent, near_age_limit())
    with django_assert_max_num_queries(12) as few:
        assert client.get(reverse("dossiers:list")).status_code == 200
    n = len(few.captured_queries)
    for _i in range(10):
        open_(agent, near_age_limit())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("dossiers:list"))
    assert response.content.count(b'data-testid="dossier-row"') == 13
    assert len(many.captured_queries) == n


def test_home_shows_dossiers_approaching_and_cmr_events(client, officers, affiliate):
    from datetime import date, timedelta

    from affiliates.selectors import approaching_age_limit
    from tests.affiliates.factories import AffiliateFactory, with_career

    manager, agent = officers
    today = date.today()
    soon = with_career(AffiliateFactory(birth_date=today.replace(year=today.year - 63) + timedelta(days=60)))
    also_soon = with_career(AffiliateFactory(birth_date=today.replace(year=today.year - 63) + timedelta(days=90)))
    assert {soon, also_soon} <= set(approaching_age_limit(manager))
    open_(agent, also_soon)
    client.force_login(manager)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-dossiers"' in page and 'data-state="draft"' in page
    assert reverse("affiliates:situation", args=[soon.pk]) in page
    assert reverse("affiliates:situation", args=[also_soon.pk]) not in page  # it has its dossier


def _certified(officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = open_(agent, affiliate)
    for code in BASIC:
        services.add_document(agent, dossier.pk, item_code=code, filename=f"{code}.pdf",
                              data=signed_pdf(cin="CD789012", text=code))
    services.submit(agent, dossier.pk)
    return services.certify(manager, dossier.pk)


def test_wrong_role_or_state_refused_and_nothing_changes(client, officers, affiliate):
    from tests.factories import CmrAgentFactory

    manager, agent = officers
    dossier = open_(agent, affiliate)
    client.force_login(CmrAgentFactory())
    page = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert page.status_code == 200 and b"action-submit" not in page.content and b"action-cancel" not in page.content
    client.post(reverse("dossiers:act", args=[dossier.pk, "cancel"]), {"reason": "no", "confirmed": "1"})
    client.post(reverse("dossiers:act", args=[dossier.pk, "liquidate"]), {"confirmed": "1"})
    client.force_login(manager)
    for data in ({}, {"confirmed": "1"}):  # refused at once, before any confirmation is asked
        r = client.post(reverse("dossiers:act", args=[dossier.pk, "certify"]), data, follow=True)  # not from draft
        assert b"alert-danger" in r.content and b'data-testid="confirmation"' not in r.content
        r = client.post(reverse("dossiers:act", args=[dossier.pk, "cancel"]), {"reason": " ", **data}, follow=True)
        assert b"alert-danger" in r.content  # a reason is required
    dossier.refresh_from_db()
    assert dossier.state == "draft" and list(dossier.events.values_list("action", flat=True)) == ["opened"]
    client.post(reverse("dossiers:act", args=[dossier.pk, "cancel"]), {"reason": "Opened by mistake",
                                                                        "confirmed": "1"})
    assert Dossier.objects.get().state == "cancelled"


def test_cmr_queue_filters_counts_and_document_request(client, officers, affiliate, signed_pdf,
                                                       django_assert_max_num_queries):
    from tests.factories import CmrAgentFactory

    _manager, agent = officers
    dossier = _certified(officers, affiliate, signed_pdf)
    services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="received", event_id="q1",
                             cmr_reference="CMR-1")
    for _i in range(4):
        open_(agent, near_age_limit())
    cmr = CmrAgentFactory()
    client.force_login(cmr)
    nav = client.get(reverse("home")).content
    assert reverse("dossiers:queue").encode() in nav
    with django_assert_max_num_queries(12):
        page = client.get(reverse("dossiers:queue"))
    assert page.content.count(b'data-testid="dossier-row"') == 1  # the four drafts are the collectivity's
    page = client.get(reverse("dossiers:queue"), {"state": "received", "collectivity": "01.511.01.0"})
    assert page.content.count(b'data-testid="dossier-row"') == 1
    assert client.get(reverse("dossiers:queue"), {"min_days": 3}).content.count(b'data-testid="dossier-row"') == 0
    assert client.get(reverse("dossiers:list"), {"kind": "death"}).content.count(b'data-testid="dossier-row"') == 0

    detail = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="request-documents"' in detail and b"action-review" in detail
    client.post(reverse("dossiers:request_documents", args=[dossier.pk]), {"items": ["rib"], "text": "RIB illisible"})
    dossier.refresh_from_db()  # a command to the back office (none listens here): nothing moves yet
    assert dossier.state == "received" and dossier.round == 1
    command = dossier.transmissions.get(kind="command")
    assert command.stage == "documents_requested" and command.details["requested_documents"][0]["code"] == "rib"
    detail = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="pending-command"' in detail and b'data-testid="request-documents"' not in detail
    services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="documents_requested",  # confirmed
                             event_id="q2", request_items=["rib"], request_text="RIB illisible")
    dossier.refresh_from_db()
    assert dossier.state == "documents_requested" and dossier.round == 2
    client.force_login(agent)
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content
    assert b'data-testid="document-request"' in page and b"RIB illisible" in page
    assert reverse("dossiers:queue").encode() not in client.get(reverse("home")).content
    assert client.get(reverse("dossiers:queue")).status_code == 403


def test_detail_queries_do_not_grow_with_documents(client, officers, affiliate, signed_pdf):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manager, agent = officers
    dossier = open_(agent, affiliate)
    services.add_document(agent, dossier.pk, item_code="rib", filename="rib.pdf", data=signed_pdf(cin="CD789012"))
    client.force_login(manager)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dossiers:detail", args=[dossier.pk]))
    for code in BASIC[:-1]:
        services.add_document(agent, dossier.pk, item_code=code, filename=f"{code}.pdf",
                              data=signed_pdf(cin="CD789012", text=code))
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("dossiers:detail", args=[dossier.pk]))
    assert page.content.count(b'data-testid="document"') == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_provincial_office_acts_on_behalf_of_the_commune(client, officers, affiliate):
    from accounts.selectors import ACTING_FOR_SESSION_KEY
    from tests.factories import ProvincialOfficeFactory, commune

    office = ProvincialOfficeFactory()
    client.force_login(office)
    session = client.session
    session[ACTING_FOR_SESSION_KEY] = commune().pk
    session.save()
    client.post(reverse("dossiers:open", args=[affiliate.pk]), {"kind": "age_limit"})
    dossier = Dossier.objects.get()
    client.post(reverse("dossiers:observe", args=[dossier.pk]), {"text": "Pièces déposées au bureau"})
    events = list(dossier.events.order_by("pk"))
    assert [e.action for e in events] == ["opened", "observation"]
    assert all(e.on_behalf_of == commune() for e in events)
