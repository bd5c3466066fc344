"""The client the outbox uses: what counts as delivered, what is retried, what fails for good."""

from collections import deque

import pytest

from cmr.client import (
    CmrClient,
    CmrConflictError,
    CmrPermanentError,
    CmrRetryableError,
)
from tests.cmr_mock import RecordingServer, make_delivery


def send(client, key="key-1", portal_id="D-1", **kwargs):
    manifest, files = make_delivery(portal_id, **kwargs)
    return client.send_dossier(idempotency_key=key, manifest=manifest, files=files)


@pytest.fixture
def client(cmr_mock):
    return CmrClient(cmr_mock.base_url, connect_timeout=2, read_timeout=2)


@pytest.fixture
def stub(callback_receiver):
    """A fake back office answering whatever a test queues."""
    return callback_receiver


def test_a_delivery_returns_the_cmr_reference_and_a_replay_the_same_one(client, cmr_mock):
    first = send(client)
    replay = send(client)

    assert first.reference.startswith("CMR-")
    assert (first.replayed, replay.replayed) == (False, True)
    assert replay.reference == first.reference
    stats = cmr_mock.stats()
    assert (stats["dossiers_received"], stats["duplicate_deliveries"]) == (1, 1)


def test_the_request_carries_the_key_the_manifest_and_the_pdfs(stub):
    stub.responses = deque([(201, {"reference": "CMR-2026-0000009"}, "application/json")])
    client = CmrClient(stub.url)

    receipt = send(client, key="tx-17-abc")

    [request] = stub.requests
    assert receipt.reference == "CMR-2026-0000009"
    assert request.path == "/dossiers"
    assert request.headers["Idempotency-Key"] == "tx-17-abc"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="manifest"' in request.body
    assert b'filename="doc1.pdf"' in request.body


def test_same_key_with_other_content_is_a_conflict_never_retried(client):
    send(client)

    with pytest.raises(CmrConflictError) as caught:
        send(client, seed=9)

    assert isinstance(caught.value, CmrPermanentError)
    assert caught.value.retryable is False
    assert caught.value.status == 409


def test_a_digest_refused_by_the_back_office_is_permanent(client, cmr_mock):
    manifest, files = make_delivery("D-2")
    files[0] = (files[0][0], b"%PDF-other")

    with pytest.raises(CmrPermanentError) as caught:
        client.send_dossier(idempotency_key="k", manifest=manifest, files=files)

    assert caught.value.status == 422
    assert "doc1.pdf: SHA-256 does not match the manifest" in str(caught.value)


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        ({"error_rate": 1.0}, "http_500"),
        ({"down": True}, "http_503"),
        ({"down": True, "down_mode": "drop"}, "connection"),
        ({"timeout_rate": 1.0, "timeout_seconds": 4}, "timeout"),
        ({"latency_ms": 3000}, "timeout"),
        ({"bad_answer_rate": 1.0}, "not_json"),
    ],
)
def test_back_office_failures_are_retryable(client, cmr_mock, faults, code):
    cmr_mock.set_faults(**faults)

    with pytest.raises(CmrRetryableError) as caught:
        send(client)

    assert caught.value.retryable is True
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((200, {"status": "received"}, "application/json"), "no_reference"),
        ((201, {"reference": ""}, "application/json"), "no_reference"),
        ((201, {"reference": 123}, "application/json"), "no_reference"),
        ((200, b"OK", "text/plain"), "not_json"),
        ((200, b'["CMR-1"]', "application/json"), "not_json"),
        ((502, b"<html>Bad gateway</html>", "text/html"), "http_502"),
        ((429, b"slow down", "text/plain"), "http_429"),
        ((408, b"", "text/plain"), "http_408"),
    ],
)
def test_answers_without_a_usable_reference_are_retryable_never_delivered(stub, answer, code):
    stub.responses = deque([answer])

    with pytest.raises(CmrRetryableError) as caught:
        send(CmrClient(stub.url))

    assert caught.value.code == code


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 415, 422])
def test_other_client_errors_are_permanent(stub, status):
    stub.responses = deque([(status, {"error": "x", "message": "refused"}, "application/json")])

    with pytest.raises(CmrPermanentError) as caught:
        send(CmrClient(stub.url))

    assert not isinstance(caught.value, CmrConflictError)
    assert caught.value.status == status
    assert "refused" in str(caught.value)


def test_nobody_listening_is_retryable():
    probe = RecordingServer()
    url = probe.url
    probe.stop()

    with pytest.raises(CmrRetryableError) as caught:
        send(CmrClient(url, connect_timeout=1))

    assert caught.value.code == "connection"


def test_stages_are_read_for_reconciliation(client, cmr_mock):
    receipt = send(client, portal_id="D-3")
    cmr_mock.advance(receipt.reference, "under_review")

    stages = client.get_stages(receipt.reference)
    found = client.find_by_portal_id("D-3")

    assert stages["stage"] == "under_review"
    assert [h["stage"] for h in stages["history"]] == ["received", "under_review"]
    assert [d["reference"] for d in found] == [receipt.reference]
    with pytest.raises(CmrPermanentError):
        client.get_stages("CMR-0000-0000000")


def test_the_client_is_configured_from_settings(settings):
    from cmr.client import get_client

    settings.CMR_BASE_URL = "http://cmr.example:8001/"
    settings.CMR_CONNECT_TIMEOUT = 1.5
    settings.CMR_READ_TIMEOUT = 12

    client = get_client()

    assert client.base_url == "http://cmr.example:8001"
    assert (client.timeout.connect_timeout, client.timeout.read_timeout) == (1.5, 12)


def test_an_inherited_proxy_is_ignored_and_the_configured_one_is_used(cmr_mock, settings, monkeypatch):
    import urllib3

    from cmr.client import CmrClient

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    CmrClient(cmr_mock.base_url).find_by_portal_id("none")  # reached directly, or this raises

    settings.CMR_HTTP_PROXY = "http://proxy.ministere.test:3128"
    client = CmrClient(cmr_mock.base_url)
    assert isinstance(client.http, urllib3.ProxyManager)
    assert client.http.proxy.host == "proxy.ministere.test" and client.http.proxy.port == 3128
