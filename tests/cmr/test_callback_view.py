"""POST /cmr/callbacks/: only signed, fresh, well-formed, new stage events reach the workflow."""

import json
import logging
import time
import uuid

import pytest
from django.urls import reverse

from cmr import rules, stages
from cmr.models import CmrEvent
from tests.cmr_mock import TEST_SECRET, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CMR_CALLBACK_SECRET = TEST_SECRET
    settings.CMR_CALLBACK_TOLERANCE_SECONDS = 300


@pytest.fixture
def workflow(monkeypatch):
    """Stands in for the dossier workflow behind the seam: records what it is asked to apply."""
    applied = []

    def apply(event):
        applied.append(event)

    monkeypatch.setattr(stages, "apply_stage_event", apply)
    return applied


def event_body(**overrides):
    payload = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "cmr_reference": "CMR-2026-0000001",
        "portal_dossier_id": "42",
        "stage": "under_review",
        "previous_stage": "received",
        "occurred_at": "2026-11-23T10:00:00Z",
        "details": {},
    }
    payload.update(overrides)
    return json.dumps(payload).encode()


def post(client, body, *, secret=TEST_SECRET, now=None, headers=None):
    signed = rules.signature_headers(secret, body, now=now)
    return client.post(reverse("cmr:callback"), data=body, content_type="application/json",
                       headers={**signed, **(headers or {})})


def test_a_valid_event_is_handed_to_the_workflow_once_and_recorded(client, workflow):
    body = event_body(stage="documents_requested", previous_stage="under_review",
                      details={"requested_documents": [{"code": "birth_certificate"}]})

    answer = post(client, body)

    assert answer.status_code == 200
    assert answer.json()["status"] == "applied"
    [event] = workflow
    assert event.stage == "documents_requested"
    assert event.details == {"requested_documents": [{"code": "birth_certificate"}]}
    row = CmrEvent.objects.get()
    assert (row.event_id, row.cmr_reference, row.stage) == (
        event.event_id, "CMR-2026-0000001", "documents_requested")


def test_a_replayed_event_id_changes_nothing(client, workflow):
    body = event_body()
    first = post(client, body)
    # The back office resends it (a duplicate callback), later and re-signed.
    replay = post(client, body, now=time.time() + 5)

    assert first.json()["status"] == "applied"
    assert replay.status_code == 200
    assert replay.json()["status"] == "duplicate"
    assert len(workflow) == 1
    assert CmrEvent.objects.count() == 1


def test_an_event_for_an_unknown_dossier_is_answered_404_and_not_recorded(client, caplog):
    # No dossier workflow yet: the seam knows no dossier.
    body = event_body()
    with caplog.at_level(logging.WARNING, logger="cmr.callbacks"):
        answer = post(client, body)

    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_dossier"
    assert CmrEvent.objects.count() == 0
    assert "unknown_dossier" in caplog.text
    # Not recorded: the back office's retry is handled afresh once the dossier exists.
    assert post(client, body).status_code == 404


def test_a_stage_the_workflow_refuses_is_answered_409_and_not_recorded(client, monkeypatch):
    def refuse(event):
        raise stages.StageNotAllowed("certified dossiers cannot be in payment")

    monkeypatch.setattr(stages, "apply_stage_event", refuse)
    answer = post(client, event_body(stage="in_payment"))

    assert answer.status_code == 409
    assert answer.json()["error"] == "stage_not_allowed"
    assert CmrEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("bad_signature", 401, "bad_signature"),
        ("wrong_secret", 401, "bad_signature"),
        ("no_signature", 401, "missing_signature"),
        ("old_timestamp", 401, "stale_timestamp"),
        ("future_timestamp", 401, "stale_timestamp"),
        ("malformed_json", 400, "malformed_json"),
        ("not_an_object", 400, "malformed_json"),
        ("unknown_stage", 400, "unknown_stage"),
        ("missing_field", 400, "missing_field"),
        ("bad_date", 400, "bad_field"),
    ],
)
def test_bad_callbacks_are_refused_logged_and_change_nothing(client, workflow, caplog, case,
                                                             status, code):
    body = event_body()
    kwargs = {}
    if case == "bad_signature":
        kwargs["headers"] = {rules.SIGNATURE_HEADER: "sha256=" + "0" * 64}
    elif case == "wrong_secret":
        kwargs["secret"] = "not-the-shared-secret"
    elif case == "no_signature":
        kwargs["headers"] = {rules.SIGNATURE_HEADER: ""}
    elif case == "old_timestamp":
        kwargs["now"] = time.time() - 301
    elif case == "future_timestamp":
        kwargs["now"] = time.time() + 301
    elif case == "malformed_json":
        body = b'{"event_id": "evt_1234567890", "stage": '
    elif case == "not_an_object":
        body = b'["received"]'
    elif case == "unknown_stage":
        body = event_body(stage="paid")
    elif case == "missing_field":
        body = event_body(cmr_reference=None)
    elif case == "bad_date":
        body = event_body(occurred_at="yesterday")

    with caplog.at_level(logging.WARNING, logger="cmr.callbacks"):
        answer = post(client, body, **kwargs)

    assert answer.status_code == status
    assert answer.json() == {"status": "refused", "error": code}
    assert workflow == []
    assert CmrEvent.objects.count() == 0
    assert f"CMR callback refused from 127.0.0.1: {code}" in caplog.text


def test_a_body_altered_after_signing_is_refused(client, workflow):
    body = event_body(stage="liquidated")
    signed = rules.signature_headers(TEST_SECRET, body)
    altered = body.replace(b"liquidated", b"rejected")

    answer = client.post(reverse("cmr:callback"), data=altered, content_type="application/json",
                         headers=signed)

    assert answer.status_code == 401
    assert workflow == []


def test_only_post_is_accepted(client):
    assert client.get(reverse("cmr:callback")).status_code == 405


def test_callbacks_signed_by_the_real_mock_are_applied_once_even_when_sent_twice(
        client, workflow, cmr_mock, callback_receiver, settings):
    """The mock signs, the portal verifies: one shared rule. Duplicates change nothing."""
    cmr_mock.set_faults(duplicate_callbacks=True)
    manifest, files = make_delivery("77")
    reference = cmr_mock.deliver("key-77", manifest, files).json()["reference"]
    cmr_mock.advance(reference, "under_review")

    received = callback_receiver.wait_for(4)  # two events, each sent twice
    # Hand the mock's exact requests to the portal's view.
    answers = [
        client.post(reverse("cmr:callback"), data=r.body, content_type="application/json",
                    headers={rules.TIMESTAMP_HEADER: r.headers[rules.TIMESTAMP_HEADER],
                             rules.SIGNATURE_HEADER: r.headers[rules.SIGNATURE_HEADER]})
        for r in received
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.json()["status"] for a in answers] == ["applied", "duplicate", "applied",
                                                     "duplicate"]
    assert [(e.cmr_reference, e.portal_dossier_id, e.stage) for e in workflow] == [
        (reference, "77", "received"), (reference, "77", "under_review")]
    assert CmrEvent.objects.count() == 2


def _in_own_connection(fn):
    """Run ``fn`` in a thread with its own database connection (committing for real)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_two_simultaneous_deliveries_of_one_event_apply_it_once(monkeypatch):
    """Two web workers receive the same callback at once: the unique event id serialises them."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    applied = []
    inside = threading.Event()

    def slow_apply(event):
        applied.append(event.event_id)
        inside.set()
        time.sleep(0.5)  # the other delivery arrives while this transaction is open

    monkeypatch.setattr(stages, "apply_stage_event", slow_apply)
    event = rules.parse_event(event_body())

    def deliver(wait_first):
        if wait_first:
            inside.wait(5)
        try:
            return stages.receive_stage_event(event)
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(deliver, [False, True]))
        assert outcomes == ["applied", "duplicate"]
        assert applied == [event.event_id]
        assert _in_own_connection(
            lambda: CmrEvent.objects.filter(event_id=event.event_id).count()) == 1
    finally:
        _in_own_connection(lambda: CmrEvent.objects.filter(event_id=event.event_id).delete())
