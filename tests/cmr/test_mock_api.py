"""The mock back office, over HTTP, as a separate process with its own storage."""

import contextlib
import json
import os
import sqlite3
import subprocess
import sys

import pytest
import requests
import yaml

from cmr import rules
from tests.cmr_mock import ROOT, make_delivery, post_delivery, wait_until


def test_first_receipt_gets_a_reference_and_every_replay_the_same_answer(cmr_mock):
    manifest, files = make_delivery("D-42")

    first = cmr_mock.deliver("key-42", manifest, files)
    replay = cmr_mock.deliver("key-42", manifest, files)
    again = cmr_mock.deliver("key-42", manifest, files)

    assert first.status_code == 201
    assert first.headers["Idempotent-Replayed"] == "false"
    assert first.json()["reference"].startswith("CMR-")
    for answer in (replay, again):
        assert answer.status_code == first.status_code
        assert answer.json() == first.json()
        assert answer.headers["Idempotent-Replayed"] == "true"
    stats = cmr_mock.stats()
    assert stats["dossiers_received"] == 1
    assert stats["distinct_portal_dossiers"] == 1
    assert stats["duplicate_deliveries"] == 2
    assert stats["by_stage"]["received"] == 1
    # Stored once, PDFs included, in the mock's own data directory.
    reference = first.json()["reference"]
    stored = sorted(p.name for p in (cmr_mock.data_dir / "files" / reference).iterdir())
    assert stored == ["doc1.pdf", "doc2.pdf"]
    assert (cmr_mock.data_dir / "files" / reference / "doc1.pdf").read_bytes() == files[0][1]


def test_same_key_with_different_content_is_refused_409(cmr_mock):
    manifest, files = make_delivery("D-1")
    other_manifest, other_files = make_delivery("D-1", seed=7)
    assert cmr_mock.deliver("key-1", manifest, files).status_code == 201

    answer = cmr_mock.deliver("key-1", other_manifest, other_files)

    assert answer.status_code == 409
    assert answer.json()["error"] == "IdempotencyConflict"
    stats = cmr_mock.stats()
    assert stats["dossiers_received"] == 1
    assert stats["conflicts"] == 1
    assert stats["duplicate_deliveries"] == 0


def test_a_file_that_does_not_match_its_digest_is_refused_422_and_nothing_is_stored(cmr_mock):
    manifest, files = make_delivery("D-2")
    files[1] = (files[1][0], files[1][1] + b"tampered")

    answer = cmr_mock.deliver("key-2", manifest, files)

    assert answer.status_code == 422
    assert answer.json()["errors"] == ["doc2.pdf: SHA-256 does not match the manifest"]
    stats = cmr_mock.stats()
    assert stats["dossiers_received"] == 0
    assert stats["rejected_payloads"] == 1
    assert list((cmr_mock.data_dir / "files").iterdir()) == []
    # The key is still free: the corrected delivery is accepted.
    good_manifest, good_files = make_delivery("D-2")
    assert cmr_mock.deliver("key-2", good_manifest, good_files).status_code == 201


def test_missing_and_unlisted_files_and_bad_manifests_are_refused_422(cmr_mock):
    manifest, files = make_delivery("D-3", documents=3)
    missing = cmr_mock.deliver("k-missing", manifest, files[:2])
    extra = cmr_mock.deliver("k-extra", manifest, [*files, ("other.pdf", b"%PDF-x")])
    bad_manifest = dict(manifest, documents=[{"name": "doc1.pdf", "sha256": "nothex"}])
    malformed = cmr_mock.deliver("k-bad", bad_manifest, files[:1])

    assert missing.status_code == 422
    assert "doc3.pdf: listed in the manifest but not received" in missing.json()["errors"]
    assert extra.status_code == 422
    assert "other.pdf: received but not listed in the manifest" in extra.json()["errors"]
    assert malformed.status_code == 422
    assert any("sha256" in e for e in malformed.json()["errors"])
    assert cmr_mock.stats()["dossiers_received"] == 0


def test_a_delivery_without_idempotency_key_or_not_multipart_is_refused(cmr_mock):
    manifest, files = make_delivery("D-4")
    no_key = cmr_mock.session.post(f"{cmr_mock.base_url}/dossiers",
                                   files=[("manifest", (None, json.dumps(manifest)))], timeout=5)
    as_json = cmr_mock.session.post(f"{cmr_mock.base_url}/dossiers", json=manifest,
                                    headers={"Idempotency-Key": "k"}, timeout=5)

    assert no_key.status_code == 400
    assert no_key.json()["error"] == "idempotency_key_required"
    assert as_json.status_code == 415
    assert cmr_mock.stats()["dossiers_received"] == 0


def test_a_dossier_and_its_stages_are_reported(cmr_mock):
    manifest, files = make_delivery("D-5")
    reference = cmr_mock.deliver("key-5", manifest, files).json()["reference"]
    cmr_mock.advance(reference, "under_review")
    cmr_mock.advance(reference, "documents_requested",
                     {"requested_documents": [{"code": "birth_certificate"}]})

    dossier = cmr_mock.get(f"/dossiers/{reference}").json()
    stages = cmr_mock.get(f"/dossiers/{reference}/stages").json()
    found = cmr_mock.get("/dossiers", params={"portal_dossier_id": "D-5"}).json()["results"]

    assert dossier["portal_dossier_id"] == "D-5"
    assert dossier["stage"] == "documents_requested"
    assert [d["sha256"] for d in dossier["documents"]] == [
        d["sha256"] for d in manifest["documents"]]
    assert [h["stage"] for h in stages["history"]] == [
        "received", "under_review", "documents_requested"]
    assert stages["history"][-1]["details"] == {
        "requested_documents": [{"code": "birth_certificate"}]}
    assert [r["reference"] for r in found] == [reference]
    assert cmr_mock.get("/dossiers/CMR-0000-0000000").status_code == 404


def test_the_back_office_workflow_refuses_a_stage_it_does_not_allow(cmr_mock):
    manifest, files = make_delivery("D-6")
    reference = cmr_mock.deliver("key-6", manifest, files).json()["reference"]

    skip = cmr_mock.admin("POST", f"/admin/dossiers/{reference}/stage",
                          json={"stage": "in_payment"})
    unknown = cmr_mock.admin("POST", f"/admin/dossiers/{reference}/stage",
                             json={"stage": "paid"})

    assert skip.status_code == 409
    assert unknown.status_code == 400
    assert cmr_mock.stats()["by_stage"]["received"] == 1


def test_a_supplement_moves_the_dossier_back_under_review(cmr_mock):
    manifest, files = make_delivery("D-7")
    reference = cmr_mock.deliver("key-7", manifest, files).json()["reference"]
    cmr_mock.advance(reference, "under_review")
    cmr_mock.advance(reference, "documents_requested")
    sup_manifest, sup_files = make_delivery("D-7", documents=1, supplement_to=reference, seed=3)

    answer = cmr_mock.deliver("key-7-s1", sup_manifest, sup_files)
    unknown = cmr_mock.deliver(
        "key-x", *make_delivery("D-8", supplement_to="CMR-2000-0000099"))

    assert answer.status_code == 201
    assert answer.json()["supplement_to"] == reference
    dossier = cmr_mock.get(f"/dossiers/{reference}").json()
    assert dossier["stage"] == "under_review"
    assert dossier["supplements"] == [answer.json()["reference"]]
    assert dossier["history"][-1]["details"] == {"supplement_reference": answer.json()["reference"]}
    assert unknown.status_code == 422
    stats = cmr_mock.stats()
    assert (stats["dossiers_received"], stats["supplements_received"]) == (1, 1)


def test_the_page_lists_dossiers_and_its_buttons_move_them(cmr_mock):
    manifest, files = make_delivery("D-9")
    reference = cmr_mock.deliver("key-9", manifest, files).json()["reference"]

    page = cmr_mock.get("/")
    moved = cmr_mock.session.post(f"{cmr_mock.base_url}/ui/advance",
                                  data={"reference": reference, "stage": "rejected",
                                        "reason": "incomplete career"},
                                  allow_redirects=False, timeout=5)
    refused = cmr_mock.session.post(f"{cmr_mock.base_url}/ui/advance",
                                    data={"reference": reference, "stage": "under_review"},
                                    timeout=5)

    assert page.status_code == 200
    assert reference in page.text
    assert 'value="under_review"' in page.text
    assert moved.status_code == 303
    history = cmr_mock.get(f"/dossiers/{reference}/stages").json()["history"]
    assert history[-1]["stage"] == "rejected"
    assert history[-1]["details"] == {"reason": "incomplete career"}
    assert refused.status_code == 409
    assert "cannot move from rejected" in refused.text


def test_the_advance_command_moves_a_dossier_and_the_server_reports_it(cmr_mock,
                                                                       callback_receiver):
    manifest, files = make_delivery("D-10")
    reference = cmr_mock.deliver("key-10", manifest, files).json()["reference"]

    result = subprocess.run(
        [sys.executable, "-m", "cmr.mock", "advance", reference, "under_review",
         "--data-dir", str(cmr_mock.data_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=30)
    bad = subprocess.run(
        [sys.executable, "-m", "cmr.mock", "advance", reference, "in_payment",
         "--data-dir", str(cmr_mock.data_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stage"] == "under_review"
    assert bad.returncode == 1
    assert "cannot move from under_review to in_payment" in bad.stderr
    received = callback_receiver.wait_for(2)
    assert [json.loads(r.body)["stage"] for r in received] == ["received", "under_review"]


def test_the_demo_timer_moves_dossiers_along_the_happy_path(cmr_mock_factory):
    mock = cmr_mock_factory(extra_args=["--auto-advance", "0.3"])
    manifest, files = make_delivery("D-11")
    reference = mock.deliver("key-11", manifest, files).json()["reference"]

    wait_until(lambda: mock.get(f"/dossiers/{reference}").json()["stage"] == "in_payment")

    history = mock.get(f"/dossiers/{reference}/stages").json()["history"]
    assert [h["stage"] for h in history] == ["received", "under_review", "liquidated",
                                            "in_payment"]
    assert {h["source"] for h in history[1:]} == {"timer"}


def test_storage_survives_a_restart(cmr_mock):
    manifest, files = make_delivery("D-12")
    first = cmr_mock.deliver("key-12", manifest, files).json()

    cmr_mock.restart()

    replay = cmr_mock.deliver("key-12", manifest, files)
    assert replay.json() == first
    assert cmr_mock.stats()["dossiers_received"] == 1
    # Its storage is its own SQLite file in its data directory.
    with sqlite3.connect(cmr_mock.data_dir / "cmr_mock.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0] == 1


def test_the_api_is_documented_in_openapi(cmr_mock):
    as_yaml = yaml.safe_load(cmr_mock.get("/openapi.yaml").text)
    as_json = cmr_mock.get("/openapi.json").json()

    assert as_yaml == as_json
    assert as_json["openapi"].startswith("3.")
    for path in ("/dossiers", "/dossiers/{reference}", "/dossiers/{reference}/stages", "/stats",
                 "/admin/faults"):
        assert path in as_json["paths"]
    assert set(as_json["components"]["schemas"]["Stage"]["enum"]) == {
        "received", "under_review", "documents_requested", "liquidated", "in_payment", "rejected"}


def test_the_mock_never_imports_the_portal():
    """It runs without Django settings and without importing Django at all."""
    code = ("import sys, cmr.mock.server, cmr.mock.cli; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_manage_py_run_cmr_mock_serves_with_the_portal_s_settings(tmp_path, callback_receiver):
    """The Django command passes the portal's settings (the shared secret) as defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMR_")}
    env.update({"PYTHONUNBUFFERED": "1", "DJANGO_ENV": "development"})
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_cmr_mock", "--port", "0", "--data-dir",
         str(tmp_path / "mock"), "--callback-url", f"{callback_receiver.url}/cmr/callbacks/",
         "--callback-poll", "0.05", "--skip-checks"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert "CMR mock listening on http://127.0.0.1:" in line
        base = line.split("listening on ", 1)[1].split()[0]
        manifest, files = make_delivery("D-13")
        assert post_delivery(base, "key-13", manifest, files).status_code == 201
        [callback] = callback_receiver.wait_for(1)
        rules.verify_signature("development-only-cmr-callback-secret",
                               timestamp=callback.headers[rules.TIMESTAMP_HEADER],
                               signature=callback.headers[rules.SIGNATURE_HEADER],
                               body=callback.body)
        assert requests.get(f"{base}/stats", timeout=5).json()["dossiers_received"] == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_concurrent_deliveries_of_one_key_store_one_dossier(cmr_mock):
    """Two workers racing on the same transmission: one dossier, one reference for both."""
    from concurrent.futures import ThreadPoolExecutor

    manifest, files = make_delivery("D-14", documents=3, size=50_000)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: cmr_mock.deliver("key-14", manifest, files),
                                range(16)))

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["reference"] for a in answers}) == 1
    assert [a.headers["Idempotent-Replayed"] for a in answers].count("false") == 1
    stats = cmr_mock.stats()
    assert (stats["dossiers_received"], stats["duplicate_deliveries"]) == (1, 15)
    assert len(list((cmr_mock.data_dir / "files").iterdir())) == 1
    assert list((cmr_mock.data_dir / "incoming").iterdir()) == []


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_the_mock_refuses_a_caller_without_the_portals_token(cmr_mock, authorization):
    manifest, files = make_delivery("D-401")
    parts = [("manifest", (None, json.dumps(manifest), "application/json"))]
    parts += [("file", (name, content, "application/pdf")) for name, content in files]
    headers = {"Idempotency-Key": "k-401"}
    if authorization is not None:
        headers["Authorization"] = authorization
    refused = requests.post(f"{cmr_mock.base_url}/dossiers", files=parts, headers=headers, timeout=5)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert requests.get(f"{cmr_mock.base_url}/dossiers/X-1", headers=headers, timeout=5).status_code == 401
    assert cmr_mock.stats()["dossiers_received"] == 0
    assert post_delivery(cmr_mock.base_url, "k-401", manifest, files).status_code == 201  # with it


def test_the_portals_client_sends_its_token(settings, callback_receiver):
    from cmr.client import CmrClient

    settings.CMR_API_TOKEN = "a-bearer-token-of-the-portal-0123456789"
    client = CmrClient(base_url=callback_receiver.url)
    with contextlib.suppress(Exception):  # only what was sent matters here
        client._request("GET", "/dossiers", params={"portal_dossier_id": "D-1"})
    [request] = callback_receiver.wait_for(1)
    assert request.headers.get("Authorization") == "Bearer a-bearer-token-of-the-portal-0123456789"
