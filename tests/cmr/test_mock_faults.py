"""Faults injected on purpose, from the environment and from the admin endpoint, are observable."""

import pytest
import requests

from tests.cmr_mock import ADMIN_TOKEN, make_delivery, wait_until


def test_error_rate_one_answers_500_and_stores_nothing(cmr_mock):
    cmr_mock.set_faults(error_rate=1.0)
    manifest, files = make_delivery("D-1")

    answers = [cmr_mock.deliver("key-1", manifest, files) for _ in range(3)]

    assert [a.status_code for a in answers] == [500, 500, 500]
    stats = cmr_mock.stats()  # the control plane still answers
    assert stats["dossiers_received"] == 0
    assert stats["injected_faults"]["errors"] == 3
    cmr_mock.set_faults(reset=True)
    assert cmr_mock.deliver("key-1", manifest, files).status_code == 201


def test_a_seeded_error_rate_fails_the_same_requests_on_every_run(cmr_mock_factory):
    faults = {"error_rate": 0.5, "seed": 7}
    runs = []
    for _ in range(2):
        mock = cmr_mock_factory(faults=faults)  # from the environment: CMR_MOCK_ERROR_RATE...
        runs.append([mock.get("/dossiers").status_code for _ in range(16)])
        mock.stop()

    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


def test_down_from_the_environment_answers_503_until_brought_up(cmr_mock_factory):
    mock = cmr_mock_factory(faults={"down": "true"})
    manifest, files = make_delivery("D-2")

    down = mock.deliver("key-2", manifest, files)

    assert down.status_code == 503
    assert down.headers["Retry-After"] == "1"
    assert mock.get("/healthz").status_code == 200
    assert mock.stats()["injected_faults"]["down"] == 1
    mock.set_faults(down=False)
    assert mock.deliver("key-2", manifest, files).status_code == 201


def test_down_in_drop_mode_drops_the_connection(cmr_mock):
    cmr_mock.set_faults(down=True, down_mode="drop")
    manifest, files = make_delivery("D-3")

    with pytest.raises(requests.ConnectionError):
        cmr_mock.deliver("key-3", manifest, files)

    assert cmr_mock.stats()["dossiers_received"] == 0


def test_down_for_a_while_comes_back_by_itself(cmr_mock):
    snapshot = cmr_mock.set_faults(down_for_seconds=3)
    assert snapshot["down_now"] is True
    assert cmr_mock.get("/dossiers").status_code == 503

    wait_until(lambda: cmr_mock.get("/dossiers").status_code == 200, timeout=10)


def test_a_timed_out_delivery_was_received_once_and_its_replay_gets_the_reference(cmr_mock):
    cmr_mock.set_faults(timeout_rate=1.0, timeout_seconds=3)
    manifest, files = make_delivery("D-4")

    with pytest.raises(requests.Timeout):
        cmr_mock.deliver("key-4", manifest, files, timeout=0.5)

    cmr_mock.set_faults(reset=True)
    replay = cmr_mock.deliver("key-4", manifest, files)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    stats = cmr_mock.stats()
    assert stats["dossiers_received"] == 1
    assert stats["duplicate_deliveries"] == 1
    assert stats["injected_faults"]["timeouts"] == 1


def test_added_latency_outlasts_a_short_client_timeout(cmr_mock):
    cmr_mock.set_faults(latency_ms=800)

    with pytest.raises(requests.Timeout):
        cmr_mock.get("/dossiers", timeout=0.2)
    assert cmr_mock.get("/dossiers", timeout=10).status_code == 200
    assert cmr_mock.get("/stats", timeout=0.5).status_code == 200  # control plane: no latency


def test_a_bad_answer_is_an_html_page_though_the_dossier_was_stored(cmr_mock):
    cmr_mock.set_faults(bad_answer_rate=1.0)
    manifest, files = make_delivery("D-5")

    answer = cmr_mock.deliver("key-5", manifest, files)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    cmr_mock.set_faults(bad_answer_rate=0)
    assert cmr_mock.deliver("key-5", manifest, files).json()["reference"].startswith("CMR-")
    assert cmr_mock.stats()["dossiers_received"] == 1


def test_duplicate_callbacks_send_each_event_twice(cmr_mock, callback_receiver):
    cmr_mock.set_faults(duplicate_callbacks=True)
    manifest, files = make_delivery("D-6")
    reference = cmr_mock.deliver("key-6", manifest, files).json()["reference"]
    cmr_mock.advance(reference, "under_review")

    received = callback_receiver.wait_for(4)

    event_ids = [r.headers["X-CMR-Event-Id"] for r in received]
    assert event_ids[0] == event_ids[1] != event_ids[2] == event_ids[3]
    wait_until(lambda: cmr_mock.stats()["callbacks"]["delivered"] == 2)
    assert cmr_mock.stats()["callbacks"]["posts"] == 4


def test_faults_from_flags_and_the_admin_endpoint_need_the_token(cmr_mock_factory):
    mock = cmr_mock_factory(extra_args=["--fault", "latency_ms=5"])

    no_token = requests.post(f"{mock.base_url}/admin/faults", json={"down": True}, timeout=5)
    wrong = requests.post(f"{mock.base_url}/admin/faults", json={"down": True}, timeout=5,
                          headers={"Authorization": "Bearer nope"})
    unknown = mock.admin("POST", "/admin/faults", json={"explode": True})
    bad_rate = mock.admin("POST", "/admin/faults", json={"error_rate": 2})
    current = mock.admin("GET", "/admin/faults", headers={"X-Admin-Token": ADMIN_TOKEN})

    assert (no_token.status_code, wrong.status_code) == (401, 401)
    assert unknown.status_code == 400
    assert "explode" in unknown.json()["message"]
    assert bad_rate.status_code == 400
    assert current.json()["latency_ms"] == 5
    assert current.json()["down"] is False


def test_admin_endpoints_are_off_without_a_token(cmr_mock_factory):
    mock = cmr_mock_factory(extra_args=["--admin-token", ""])

    answer = requests.post(f"{mock.base_url}/admin/faults", json={"down": True}, timeout=5)

    assert answer.status_code == 403
    assert mock.get("/dossiers").status_code == 200
