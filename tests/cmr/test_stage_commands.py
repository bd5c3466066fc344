"""The back office is the record of liquidation: a CMR agent's stage act in the portal is a command
to the (real, mock) back office, delivered by the outbox, and the portal's state changes only when
the back office confirms it. A report the portal cannot apply is kept as a conflict and reconciled."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cmr import rules, sender, stages
from cmr.models import CmrEvent, StageConflict, Transmission
from dossiers import selectors
from dossiers import services as dossier_services
from dossiers.errors import DossierError
from dossiers.models import Dossier, Event
from tests.cmr.test_outbox import certified  # noqa: F401
from tests.cmr_mock import api_token
from tests.dossiers.conftest import affiliate, fill, officers  # noqa: F401
from tests.factories import CmrAgentFactory
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(certified, cmr_mock, settings):  # noqa: F811
    """A dossier certified and delivered to the mock (whose callbacks go to a recorder, not the portal)."""
    settings.CMR_BASE_URL = cmr_mock.base_url
    dossier = certified()
    assert dossier.state == "transmitted" and dossier.cmr_reference
    return dossier


def due_now():
    Transmission.objects.filter(status=Transmission.Status.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def back_office_stage(mock, dossier):
    return mock.get(f"/dossiers/{dossier.cmr_reference}/stages",
                    headers={"Authorization": f"Bearer {api_token()}"}).json()["stage"]


def act(agent, dossier, name, capture, **kw):
    with capture(execute=True):  # the command's send runs on commit (eager, as in make run)
        dossier_services.take_action(agent, dossier.pk, name, **kw)
    return Dossier.objects.get(pk=dossier.pk)


def test_a_command_sent_while_the_cmr_is_down_is_delivered_later_and_applied_once(
        delivered, cmr_mock, django_capture_on_commit_callbacks, client):
    agent = CmrAgentFactory(full_name="Nadia Cherkaoui")
    cmr_mock.set_faults(down=True)
    dossier = act(agent, delivered, "review", django_capture_on_commit_callbacks)
    assert dossier.state == "transmitted"  # nothing changes before the back office confirms
    command = Transmission.objects.get(kind="command")
    assert command.status == "pending" and command.attempts == 1 and command.stage == "under_review"
    assert "CMR injoignable, prochain essai" in command.plain_status()
    client.force_login(agent)
    page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'data-testid="pending-command"' in page and "En cours d&#x27;examen" in page
    assert 'data-testid="action-liquidate"' not in page  # no other stage while one awaits its confirmation
    with pytest.raises(DossierError, match="attend sa confirmation"):
        dossier_services.take_action(agent, dossier.pk, "review")

    cmr_mock.set_faults(down=False)
    due_now()
    assert sender.send_transmission(command.pk) == sender.SENT
    dossier.refresh_from_db()
    assert dossier.state == "under_review" and back_office_stage(cmr_mock, dossier) == "under_review"
    command.refresh_from_db()
    assert command.status == "delivered" and command.event_id
    event = CmrEvent.objects.get(event_id=command.event_id)
    # the back office's callback of the same event changes nothing more
    callback = rules.StageEvent(event_id=event.event_id, cmr_reference=dossier.cmr_reference,
                                portal_dossier_id=str(dossier.reference), stage="under_review",
                                occurred_at=timezone.now(), previous_stage="received")
    assert stages.receive_stage_event(callback) == stages.DUPLICATE
    assert Event.objects.filter(dossier=dossier, action="review").count() == 1
    assert Event.objects.filter(dossier=dossier, action="stage_sent").count() == 1
    assert cmr_mock.stats()["stage_commands"] == 1


def test_a_document_request_names_its_items_and_the_checklist_asks_them_again(
        delivered, cmr_mock, django_capture_on_commit_callbacks, client, officers):  # noqa: F811
    agent = CmrAgentFactory()
    act(agent, delivered, "review", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        dossier_services.request_documents(agent, delivered.pk, item_codes=["rib", "cin"],
                                           text="Le RIB joint est illisible.")
    dossier = Dossier.objects.get(pk=delivered.pk)
    assert dossier.state == "documents_requested" and back_office_stage(cmr_mock, dossier) == "documents_requested"
    (request,) = dossier.document_requests.all()
    assert sorted(i.code for i in request.items.all()) == ["cin", "rib"] and "illisible" in request.text
    lines = {line.item.code: line for line in selectors.checklist(dossier)}
    assert lines["rib"].asked_again and not lines["rib"].satisfied  # the first round's RIB no longer counts
    assert not lines["application"].asked_again and lines["application"].satisfied
    client.force_login(officers[1])
    page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert page.count('data-testid="asked-again"') == 2 and "1 demande de la CMR" in page


def test_a_liquidation_carries_its_figures_to_the_collectivity(
        delivered, cmr_mock, django_capture_on_commit_callbacks, client, officers):  # noqa: F811
    agent = CmrAgentFactory()
    act(agent, delivered, "review", django_capture_on_commit_callbacks)
    with pytest.raises(DossierError, match="montant mensuel"):
        dossier_services.take_action(agent, delivered.pk, "liquidate",
                                     pension={"number": "P1", "monthly": "abc", "effective": "2027-01-01"})
    effective = date.today().replace(day=1) + timedelta(days=40)
    dossier = act(agent, delivered, "liquidate", django_capture_on_commit_callbacks,
                  pension={"number": "P000123456", "monthly": "4 512,30", "effective": effective.isoformat()})
    assert dossier.state == "liquidated"
    assert (dossier.pension_number, dossier.monthly_pension, dossier.pension_effective_on) == (
        "P000123456", Decimal("4512.30"), effective)
    client.force_login(officers[0])
    page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'data-testid="liquidation"' in page and "4.512,30" in page  # grouped as Arabic writes it


def test_a_rejection_s_reason_is_shown_at_the_top(delivered, cmr_mock, django_capture_on_commit_callbacks, client,
                                                  officers):  # noqa: F811
    agent = CmrAgentFactory()
    stages.reconcile_stages(delivered.cmr_reference)  # the receipt, as its callback would have said
    assert Dossier.objects.get(pk=delivered.pk).state == "received"
    dossier = act(agent, delivered, "reject", django_capture_on_commit_callbacks,
                  reason="L'affilié a déjà un dossier liquidé.")
    assert dossier.state == "rejected" and "déjà un dossier" in dossier.rejection_reason
    client.force_login(officers[0])
    page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert page.index('data-testid="rejection"') < page.index('data-testid="checklist"')


def test_a_command_the_cmr_refuses_fails_and_says_the_cmr_s_stage(
        delivered, cmr_mock, django_capture_on_commit_callbacks):
    cmr_mock.advance(delivered.cmr_reference, "rejected", {"reason": "doublon"})  # the portal has not heard
    agent = CmrAgentFactory()
    dossier = act(agent, delivered, "review", django_capture_on_commit_callbacks)
    command = Transmission.objects.get(kind="command")
    assert command.status == "failed" and "current_stage: rejected" in command.last_error
    assert dossier.state == "transmitted"


def test_a_report_the_portal_cannot_apply_is_a_conflict_until_reconciled(delivered, cmr_mock):
    reference = delivered.cmr_reference
    for stage in ("under_review", "liquidated"):  # the back office moves on; the callbacks are lost
        cmr_mock.advance(reference, stage, {rules.PENSION_NUMBER: "P9", rules.MONTHLY_AMOUNT: "3000.00",
                                            rules.EFFECTIVE_DATE: "2027-02-01"} if stage == "liquidated" else {})
    history = cmr_mock.get(f"/dossiers/{reference}/stages", headers={"Authorization": f"Bearer {api_token()}"}).json()
    last = history["history"][-1]
    report = rules.StageEvent(event_id=last["event_id"], cmr_reference=reference,
                              portal_dossier_id=str(delivered.reference), stage="liquidated",
                              occurred_at=timezone.now(), previous_stage="under_review",
                              details=last["details"])
    with pytest.raises(stages.StageNotAllowed):
        stages.receive_stage_event(report)  # the portal is at "transmitted": liquidated cannot follow
    (conflict,) = StageConflict.objects.all()
    assert (conflict.cmr_stage, conflict.portal_state, conflict.resolved_at) == ("liquidated", "transmitted", None)
    with pytest.raises(stages.StageNotAllowed):
        stages.receive_stage_event(report)  # retried by the back office: the same conflict, seen twice
    conflict.refresh_from_db()
    assert conflict.times == 2
    outcomes = stages.reconcile_stages(reference)  # the history fills the gap, in order
    assert [o for _id, o in outcomes][-1] == stages.APPLIED
    dossier = Dossier.objects.get(pk=delivered.pk)
    conflict.refresh_from_db()
    assert dossier.state == "liquidated" and dossier.pension_number == "P9"
    assert conflict.resolved_at is not None and conflict.resolution == "applied"


def test_the_collectivity_sees_a_failing_sending_and_its_manager_is_told(
        certified, cmr_mock, settings, client, officers, django_capture_on_commit_callbacks):  # noqa: F811
    from django.core import mail

    manager, agent = officers
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_MAX_ATTEMPTS = 2
    cmr_mock.set_faults(down=True)
    dossier = certified()
    client.force_login(agent)
    for language, words in (("fr", "CMR injoignable, prochain essai à"), ("ar", "تعذّر الوصول إلى الصندوق")):
        page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert words in page
        listing = client.get("/dossiers/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert 'data-testid="sending-trouble"' in listing and words in listing
    mail.outbox.clear()
    due_now()
    with django_capture_on_commit_callbacks(execute=True):
        assert sender.send_transmission(Transmission.objects.get().pk) == sender.FAILED
    (message,) = [m for m in mail.outbox if "CMR" in m.subject]
    assert manager.email in message.to and "n'a pas pu être remis" in message.body and "تعذّر تسليم" in message.body
    page = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "la CMR et la DGCT en sont informées" in page


def test_conflicts_are_shown_to_cmr_staff_and_the_dgct(delivered, cmr_mock, client):
    from tests.factories import DgctAdminFactory

    cmr_mock.advance(delivered.cmr_reference, "under_review")
    cmr_mock.advance(delivered.cmr_reference, "rejected", {rules.REASON: "doublon"})
    last = cmr_mock.get(f"/dossiers/{delivered.cmr_reference}/stages",
                        headers={"Authorization": f"Bearer {api_token()}"}).json()["history"][-1]
    report = rules.StageEvent(event_id=last["event_id"], cmr_reference=delivered.cmr_reference,
                              portal_dossier_id=str(delivered.reference), stage="rejected",
                              occurred_at=timezone.now(), previous_stage="under_review", details=last["details"])
    with pytest.raises(stages.StageNotAllowed):
        stages.receive_stage_event(report)
    client.force_login(CmrAgentFactory())
    page = client.get("/cmr/transmissions/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'data-testid="conflicts"' in page and "Rejected" not in page and "Rejeté" in page and "Transmis" in page
    client.force_login(DgctAdminFactory(is_superuser=True))
    assert delivered.cmr_reference in client.get("/admin/cmr/stageconflict/").content.decode()
    stages.reconcile_stages(delivered.cmr_reference)
    assert not StageConflict.objects.filter(resolved_at=None).exists()
    assert Dossier.objects.get(pk=delivered.pk).rejection_reason == "doublon"
