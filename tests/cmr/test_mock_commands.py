"""Stage commands: a CMR agent's act in the portal is sent to the back office, which applies it as
its own change (history, callback with the same event id) once per Idempotency-Key."""

import json

import pytest

from cmr import rules
from cmr.client import CmrClient, CmrConflictError, CmrPermanentError
from tests.cmr_mock import api_token, make_delivery, wait_until

REQUEST = {rules.REQUESTED_DOCUMENTS: [{"code": "birth_certificate", "label": "Acte de naissance"}],
           rules.REQUEST_TEXT: "Copie intégrale, moins de 3 mois", rules.ACTED_BY: "Samira Bennani"}
LIQUIDATION = {rules.PENSION_NUMBER: "P000123456", rules.MONTHLY_AMOUNT: "4512.30",
               rules.EFFECTIVE_DATE: "2027-01-01"}


@pytest.fixture
def received(cmr_mock):
    manifest, files = make_delivery("D-cmd")
    answer = cmr_mock.deliver("key-cmd", manifest, files)
    assert answer.status_code == 201
    return answer.json()["reference"]


def client_for(mock):
    return CmrClient(mock.base_url, connect_timeout=2, read_timeout=5)


def test_a_command_is_applied_once_and_reported_with_its_event(cmr_mock, received, callback_receiver):
    client = client_for(cmr_mock)
    first = client.command_stage(received, idempotency_key="cmd-1", stage=rules.UNDER_REVIEW, details={})
    again = client.command_stage(received, idempotency_key="cmd-1", stage=rules.UNDER_REVIEW, details={})
    assert first == again  # the replay gets the first answer: the same event
    assert first.stage == rules.UNDER_REVIEW and first.previous_stage == rules.RECEIVED
    request = client.command_stage(received, idempotency_key="cmd-2", stage=rules.DOCUMENTS_REQUESTED,
                                   details=REQUEST)
    assert request.details == REQUEST
    stages = cmr_mock.get(f"/dossiers/{received}/stages", headers={"Authorization": f"Bearer {api_token()}"}).json()
    assert stages["stage"] == rules.DOCUMENTS_REQUESTED
    history = [(h["stage"], h["event_id"]) for h in stages["history"]]
    assert history[1:] == [(rules.UNDER_REVIEW, first.event_id), (rules.DOCUMENTS_REQUESTED, request.event_id)]
    # each change is reported by callback, with the event id the answer carried
    recorded = callback_receiver.wait_for(3)
    events = [json.loads(r.body) for r in recorded]
    assert [e["event_id"] for e in events][1:] == [first.event_id, request.event_id]
    assert events[2]["details"][rules.REQUESTED_DOCUMENTS][0]["code"] == "birth_certificate"
    stats = cmr_mock.stats()
    assert stats["stage_commands"] == 2 and stats["duplicate_commands"] == 1


def test_a_stage_the_dossier_cannot_take_is_a_conflict_naming_its_stage(cmr_mock, received):
    client = client_for(cmr_mock)
    with pytest.raises(CmrConflictError, match="current_stage: received"):
        client.command_stage(received, idempotency_key="cmd-3", stage=rules.IN_PAYMENT, details={})
    client.command_stage(received, idempotency_key="cmd-4", stage=rules.UNDER_REVIEW, details={})
    with pytest.raises(CmrConflictError, match="another command"):
        client.command_stage(received, idempotency_key="cmd-4", stage=rules.REJECTED, details={rules.REASON: "x"})


@pytest.mark.parametrize(("stage", "details", "expected"), [
    (rules.DOCUMENTS_REQUESTED, {}, "names documents"),
    (rules.DOCUMENTS_REQUESTED, {rules.REQUESTED_DOCUMENTS: [{"code": "Bad Code!"}]}, "checklist item code"),
    (rules.LIQUIDATED, {rules.PENSION_NUMBER: "P1", rules.MONTHLY_AMOUNT: "-3"}, "monthly_amount"),
    (rules.LIQUIDATED, {rules.PENSION_NUMBER: "P1", rules.MONTHLY_AMOUNT: "100.00"}, "effective_date"),
    (rules.REJECTED, {}, "reason"),
    (rules.RECEIVED, {}, "cannot be commanded"),
])
def test_incomplete_details_are_refused_and_nothing_moves(cmr_mock, received, stage, details, expected):
    client = client_for(cmr_mock)
    if stage == rules.LIQUIDATED:
        client.command_stage(received, idempotency_key="pre", stage=rules.UNDER_REVIEW, details={})
    with pytest.raises(CmrPermanentError, match=expected):
        client.command_stage(received, idempotency_key="bad", stage=stage, details=details)
    stages = cmr_mock.get(f"/dossiers/{received}/stages", headers={"Authorization": f"Bearer {api_token()}"}).json()
    assert stages["stage"] in (rules.RECEIVED, rules.UNDER_REVIEW)


def test_a_liquidation_carries_its_figures(cmr_mock, received):
    client = client_for(cmr_mock)
    client.command_stage(received, idempotency_key="a", stage=rules.UNDER_REVIEW, details={})
    event = client.command_stage(received, idempotency_key="b", stage=rules.LIQUIDATED, details=LIQUIDATION)
    assert event.details == LIQUIDATION


def test_a_callback_refused_409_is_retried_not_dropped(cmr_mock_factory, callback_receiver):
    callback_receiver.responses.extend([(409, {"error": "stage_not_allowed"}, "application/json")] * 2)
    mock = cmr_mock_factory(callback_url=f"{callback_receiver.url}/cmr/callbacks/",
                            env={"CMR_MOCK_CALLBACK_BACKOFF_BASE": "0.05", "CMR_MOCK_CALLBACK_BACKOFF_CAP": "0.1"})
    manifest, files = make_delivery("D-409")
    assert mock.deliver("key-409", manifest, files).status_code == 201
    recorded = callback_receiver.wait_for(3)  # refused twice, then accepted
    assert len({json.loads(r.body)["event_id"] for r in recorded}) == 1
    wait_until(lambda: mock.admin("GET", "/admin/callbacks").json()["results"][0]["status"] == "delivered",
               message="the callback was not delivered after the conflicts")
