"""Each stage change reaches the portal as a signed callback, retried while the portal is down."""

import json
from collections import deque

from cmr import rules
from tests.cmr_mock import TEST_SECRET, RecordingServer, make_delivery, wait_until


def received_dossier(mock, portal_id="D-1"):
    manifest, files = make_delivery(portal_id)
    return mock.deliver(f"key-{portal_id}", manifest, files).json()["reference"]


def test_a_stage_change_is_reported_by_a_signed_callback(cmr_mock, callback_receiver):
    reference = received_dossier(cmr_mock, "55")
    cmr_mock.advance(reference, "under_review")

    first, second = callback_receiver.wait_for(2)

    assert first.path == "/cmr/callbacks/"
    for request in (first, second):
        rules.verify_signature(TEST_SECRET, timestamp=request.headers[rules.TIMESTAMP_HEADER],
                               signature=request.headers[rules.SIGNATURE_HEADER],
                               body=request.body)
    event = rules.parse_event(second.body)
    history = cmr_mock.get(f"/dossiers/{reference}/stages").json()["history"]
    assert event.event_id == history[1]["event_id"] == second.headers[rules.EVENT_ID_HEADER]
    assert (event.cmr_reference, event.portal_dossier_id) == (reference, "55")
    assert (event.previous_stage, event.stage) == ("received", "under_review")
    assert rules.parse_event(first.body).stage == "received"


def test_requested_documents_travel_in_the_details(cmr_mock, callback_receiver):
    reference = received_dossier(cmr_mock)
    cmr_mock.advance(reference, "under_review")
    cmr_mock.advance(reference, "documents_requested",
                     {"requested_documents": [{"code": "death_certificate", "label": "Acte"}]})

    last = callback_receiver.wait_for(3)[-1]

    assert json.loads(last.body)["details"] == {
        "requested_documents": [{"code": "death_certificate", "label": "Acte"}]}


def test_callbacks_are_retried_while_the_portal_answers_503_then_delivered_once(
        cmr_mock, callback_receiver):
    callback_receiver.responses = deque([(503, b"busy", "text/plain")] * 3)

    received_dossier(cmr_mock)

    attempts = callback_receiver.wait_for(4)
    assert len({r.headers[rules.EVENT_ID_HEADER] for r in attempts}) == 1
    for request in attempts:  # each attempt is signed afresh
        rules.verify_signature(TEST_SECRET, timestamp=request.headers[rules.TIMESTAMP_HEADER],
                               signature=request.headers[rules.SIGNATURE_HEADER],
                               body=request.body)
    wait_until(lambda: cmr_mock.stats()["callbacks"]["delivered"] == 1)
    [callback] = cmr_mock.admin("GET", "/admin/callbacks").json()["results"]
    assert (callback["status"], callback["attempts"]) == ("delivered", 4)


def test_callbacks_wait_for_a_portal_that_is_down_and_keep_a_dossier_s_order(cmr_mock_factory):
    # A port nobody listens on yet: the portal is down.
    probe = RecordingServer()
    port = probe.server.server_address[1]
    probe.stop()
    mock = cmr_mock_factory(callback_url=f"http://127.0.0.1:{port}/cmr/callbacks/")
    reference = received_dossier(mock)
    mock.advance(reference, "under_review")
    mock.advance(reference, "liquidated")

    def attempts_of_first():
        pending = mock.admin("GET", "/admin/callbacks", params={"status": "pending"}).json()
        return [c for c in pending["results"] if c["attempts"] >= 2]

    stalled = wait_until(attempts_of_first)
    assert "Connection" in stalled[0]["last_error"] or "refused" in stalled[0]["last_error"]
    assert {c["attempts"] for c in mock.admin("GET", "/admin/callbacks").json()["results"]
            if c["id"] != stalled[0]["id"]} == {0}  # later events wait their turn

    portal = RecordingServer(port=port)  # the portal comes back up
    try:
        received = portal.wait_for(3)
        assert [json.loads(r.body)["stage"] for r in received] == [
            "received", "under_review", "liquidated"]
        wait_until(lambda: mock.stats()["callbacks"]["delivered"] == 3)
    finally:
        portal.stop()


def test_a_callback_refused_for_good_is_given_up_then_resent_on_demand(cmr_mock,
                                                                        callback_receiver):
    callback_receiver.responses = deque([(401, b'{"error": "bad_signature"}',
                                          "application/json")])
    reference = received_dossier(cmr_mock)

    wait_until(lambda: cmr_mock.stats()["callbacks"]["failed"] == 1)
    assert len(callback_receiver.requests) == 1
    page = cmr_mock.get("/")
    assert "resend failed callbacks" in page.text

    requeued = cmr_mock.admin("POST", "/admin/callbacks/retry").json()

    assert requeued == {"requeued": 1}
    received = callback_receiver.wait_for(2)
    assert json.loads(received[1].body)["cmr_reference"] == reference
    wait_until(lambda: cmr_mock.stats()["callbacks"]["delivered"] == 1)


def test_unknown_dossier_answers_are_retried(cmr_mock, callback_receiver):
    """404: the portal may not know the reference yet (its delivery answer was lost)."""
    callback_receiver.responses = deque([(404, b'{"error": "unknown_dossier"}',
                                          "application/json")] * 2)
    received_dossier(cmr_mock)

    callback_receiver.wait_for(3)
    wait_until(lambda: cmr_mock.stats()["callbacks"]["delivered"] == 1)
