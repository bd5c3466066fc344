"""The timeline in the reader's language: document events of the old shape (migration 0003), the API's
timeline and the bilingual e-mails."""

import html
import importlib
import re

import pytest
from django.apps import apps
from django.core import mail

from dossiers import services
from dossiers.models import Dossier, Event
from tests.dossiers.conftest import fill
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db

migration = importlib.import_module("dossiers.migrations.0003_document_event_labels")

RIB = ("Attestation de RIB", "شهادة التعريف البنكي")
REMOVAL_AGE_LIMIT = ("Décision de radiation des cadres pour limite d'âge", "قرار الحذف من الأسلاك لبلوغ حد السن")
REMOVAL_EARLY = ("Décision acceptant la demande de retraite anticipée", "قرار قبول طلب الإحالة على التقاعد النسبي")


def old_event(dossier, action, code, text):
    """A document event as the platform wrote it before the timeline spoke the reader's language."""
    return Event.objects.create(dossier=dossier, action=action, actor_repr="Youssef Benali", text=text,
                                data={"item": code, "sha256": "ab" * 32, "file": f"{code}.pdf"})


def timeline_html(client, dossier, language):
    page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return html.unescape(page.split('data-testid="timeline"')[1].split("</ol>")[0])


@pytest.fixture
def dossiers(officers, affiliate):
    agent = officers[1]
    return (services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit"),
            services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="early"))


class TestMigration:
    def test_old_document_events_get_both_labels_of_their_kinds_item(self, dossiers, officers, client):
        age_limit, early = dossiers
        added = old_event(age_limit, "document_added", "rib", RIB[0])
        replaced = old_event(age_limit, "document_replaced", "removal_decision", REMOVAL_AGE_LIMIT[0])
        removed = old_event(early, "document_removed", "removal_decision", REMOVAL_EARLY[0])
        gone = old_event(early, "document_added", "no_longer_listed", "Pièce retirée de la liste")
        observation = Event.objects.create(dossier=early, action="observation", text="Attestation de RIB",
                                           data={"item": "rib"})

        migration.label_document_events(apps, None, chunk=2)  # several chunks

        for event, (fr, ar) in [(added, RIB), (replaced, REMOVAL_AGE_LIMIT), (removed, REMOVAL_EARLY)]:
            event.refresh_from_db()
            assert event.text == ""
            assert event.data["label_fr"] == fr and event.data["label_ar"] == ar
            assert event.data["sha256"] == "ab" * 32 and event.data["file"].endswith(".pdf")  # kept
        gone.refresh_from_db()
        observation.refresh_from_db()
        assert gone.text == "Pièce retirée de la liste" and "label_fr" not in gone.data
        assert observation.text == "Attestation de RIB" and observation.data == {"item": "rib"}

        client.force_login(officers[1])
        arabic = timeline_html(client, age_limit, "ar")
        assert RIB[1] in arabic and REMOVAL_AGE_LIMIT[1] in arabic
        assert RIB[0] not in arabic and REMOVAL_AGE_LIMIT[0] not in arabic
        french = timeline_html(client, age_limit, "fr")
        assert RIB[0] in french and REMOVAL_AGE_LIMIT[0] in french and RIB[1] not in french
        assert "Pièce retirée de la liste" in timeline_html(client, early, "ar")  # unknown item: its text

    def test_events_of_the_new_shape_are_left_alone_and_a_second_run_changes_nothing(
            self, dossiers, officers, signed_pdf):
        age_limit, _early = dossiers
        fill(officers[1], age_limit, signed_pdf, ["rib"])
        new = Event.objects.get(dossier=age_limit, action="document_added")
        old_event(age_limit, "document_replaced", "rib", RIB[0])
        migration.label_document_events(apps, None)
        before = list(Event.objects.order_by("pk").values_list("pk", "text", "data"))
        migration.label_document_events(apps, None)
        assert list(Event.objects.order_by("pk").values_list("pk", "text", "data")) == before
        assert Event.objects.get(pk=new.pk).data["sha256"] == new.data["sha256"]

    def test_backwards_the_text_holds_the_french_label_again(self, dossiers):
        age_limit, _early = dossiers
        event = old_event(age_limit, "document_added", "rib", RIB[0])
        migration.label_document_events(apps, None)
        migration.restore_text(apps, None, chunk=1)
        event.refresh_from_db()
        assert event.text == RIB[0] and event.data["label_ar"] == RIB[1]


def api(user):
    return api_client_for(user)


def test_api_timeline_names_documents_in_the_requests_language_and_gives_both_labels(
        dossiers, officers, signed_pdf):
    age_limit, _early = dossiers
    agent = officers[1]
    fill(agent, age_limit, signed_pdf, ["rib"])
    for language, label in [("fr", RIB[0]), ("ar", RIB[1])]:
        timeline = api(agent).get(f"/api/v1/dossiers/{age_limit.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()[
            "timeline"]
        added = next(e for e in timeline if e["action"] == "document_added")
        assert added["detail"] == label and added["item"] == "rib"
        assert (added["label_fr"], added["label_ar"]) == RIB
        opened = next(e for e in timeline if e["action"] == "opened")
        assert opened["item"] is None and opened["label_fr"] is None and opened["detail"] == ""


def test_the_cmr_is_named_in_the_readers_language_on_the_page_and_in_the_api(dossiers, officers, client):
    age_limit, _early = dossiers
    # The back office's events are written by nobody, in the platform's language (French).
    Event.objects.create(dossier=age_limit, action="receive", actor_repr="la CMR", text="received",
                         to_state="received")
    timeline = api(officers[1]).get(f"/api/v1/dossiers/{age_limit.pk}/", HTTP_ACCEPT_LANGUAGE="ar").json()["timeline"]
    receipt = next(e for e in timeline if e["action"] == "receive")
    assert receipt["actor"] == "الصندوق المغربي للتقاعد" and receipt["detail"] == ""
    client.force_login(officers[1])
    arabic = timeline_html(client, age_limit, "ar")
    assert "la CMR" not in arabic and "· <bdi>الصندوق المغربي للتقاعد</bdi>" in arabic
    assert "· <bdi>la CMR</bdi>" in timeline_html(client, age_limit, "fr")


def under_review(officers, affiliate):
    dossier = services.open_dossier(officers[1], affiliate_id=affiliate.pk, kind_code="age_limit")
    Dossier.objects.filter(pk=dossier.pk).update(state="under_review")
    mail.outbox.clear()
    return dossier


def test_request_email_names_the_documents_in_french_and_in_arabic(officers, affiliate,
                                                                  django_capture_on_commit_callbacks):
    dossier = under_review(officers, affiliate)
    with django_capture_on_commit_callbacks(execute=True):  # the back office reports the request
        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="documents_requested",
                                 event_id="e-req", request_items=["rib", "cin"], request_text="Le RIB est illisible.")
    [message] = mail.outbox
    french, arabic = message.body.split("----------")
    assert "La CMR demande les pièces suivantes :\n- Copie de la CIN\n- Attestation de RIB" in french
    assert "Le RIB est illisible." in french
    assert "يطلب الصندوق المغربي للتقاعد الوثائق التالية:\n- نسخة من البطاقة الوطنية للتعريف\n- شهادة التعريف البنكي" \
        in arabic
    assert "Attestation de RIB" not in arabic and "شهادة التعريف البنكي" not in french


def test_a_stage_email_carries_no_bare_stage_code(officers, affiliate, django_capture_on_commit_callbacks):
    dossier = under_review(officers, affiliate)
    with django_capture_on_commit_callbacks(execute=True):
        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="liquidated", event_id="e-1")
    [message] = mail.outbox
    assert "Liquidé" in message.body and "تمت التصفية" in message.body
    assert "liquidated" not in message.body


def test_a_request_naming_documents_without_words_shows_no_placeholder(officers, affiliate, client,
                                                                       django_capture_on_commit_callbacks):
    dossier = under_review(officers, affiliate)
    with django_capture_on_commit_callbacks(execute=True):
        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="documents_requested",
                                 event_id="e-req", request_items=["rib"], request_text="  ".strip())
    event = Event.objects.get(dossier=dossier, action="request_documents")
    assert event.text == "documents_requested"  # the bare state code: said by the state already
    [message] = mail.outbox
    assert "documents_requested" not in message.body and "\n-\n" not in message.body
    client.force_login(officers[0])
    for language in ("fr", "ar"):
        text = re.sub(r"<[^>]+>", "\n", timeline_html(client, dossier, language))
        shown = [line.strip() for line in text.splitlines()]
        assert "documents_requested" not in shown and "-" not in shown
