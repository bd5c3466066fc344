"""The pure rules both ends share: signatures, the time window, events, manifests, back-off."""

import json
from datetime import UTC, datetime

import pytest

from cmr import rules

SECRET = "s3cret"
BODY = b'{"a": 1}'


def test_a_signature_verifies_and_returns_its_timestamp():
    headers = rules.signature_headers(SECRET, BODY, now=1_700_000_000)

    assert headers[rules.SIGNATURE_HEADER].startswith("sha256=")
    assert rules.verify_signature(SECRET, timestamp=headers[rules.TIMESTAMP_HEADER],
                                  signature=headers[rules.SIGNATURE_HEADER], body=BODY,
                                  now=1_700_000_000) == 1_700_000_000


@pytest.mark.parametrize(("skew", "accepted"), [(0, True), (300, True), (-300, True),
                                                (301, False), (-301, False)])
def test_the_window_is_five_minutes_either_side(skew, accepted):
    headers = rules.signature_headers(SECRET, BODY, now=1_700_000_000)
    kwargs = {"timestamp": headers[rules.TIMESTAMP_HEADER],
              "signature": headers[rules.SIGNATURE_HEADER], "body": BODY,
              "now": 1_700_000_000 + skew}
    if accepted:
        rules.verify_signature(SECRET, **kwargs)
    else:
        with pytest.raises(rules.CallbackRejected) as caught:
            rules.verify_signature(SECRET, **kwargs)
        assert (caught.value.code, caught.value.status) == ("stale_timestamp", 401)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "code"),
    [
        ("1700000000", None, BODY, "missing_signature"),
        (None, "sha256=00", BODY, "missing_signature"),
        ("17e8", "sha256=00", BODY, "bad_timestamp"),
        ("1700000000", "sha256=" + "0" * 64, BODY, "bad_signature"),
        ("1700000001", "SIGNED_1700000000", BODY, "bad_signature"),  # the timestamp is signed
        ("1700000000", "SIGNED_1700000000", b'{"a": 2}', "bad_signature"),
    ],
)
def test_bad_signatures_are_refused(timestamp, signature, body, code):
    if signature == "SIGNED_1700000000":
        signature = rules.compute_signature(SECRET, 1700000000, BODY)
    with pytest.raises(rules.CallbackRejected) as caught:
        rules.verify_signature(SECRET, timestamp=timestamp, signature=signature, body=body,
                               now=1_700_000_000)
    assert caught.value.code == code


def test_an_empty_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        rules.compute_signature("", 1, BODY)


def test_an_event_survives_the_round_trip():
    event = rules.StageEvent(event_id="evt_0123456789", cmr_reference="CMR-2026-0000001",
                             portal_dossier_id="42", stage="rejected", previous_stage="received",
                             occurred_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
                             details={"reason": "ineligible"})

    assert rules.parse_event(event.to_json()) == event
    assert json.loads(event.to_json())["occurred_at"] == "2026-11-23T10:00:00Z"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"stage": "paid"}, "unknown_stage"),
        ({"previous_stage": "nowhere"}, "unknown_stage"),
        ({"event_id": ""}, "missing_field"),
        ({"event_id": "short"}, "bad_field"),
        ({"portal_dossier_id": True}, "bad_field"),
        ({"occurred_at": "2026-11-23T10:00:00"}, "bad_field"),  # no time zone
        ({"details": ["x"]}, "bad_field"),
    ],
)
def test_bad_events_are_refused(change, code):
    payload = {"event_id": "evt_0123456789", "cmr_reference": "CMR-1", "portal_dossier_id": 42,
               "stage": "received", "occurred_at": "2026-11-23T10:00:00+01:00"}
    payload.update(change)

    with pytest.raises(rules.CallbackRejected) as caught:
        rules.parse_event(json.dumps(payload).encode())

    assert caught.value.code == code
    assert caught.value.status == 400


def test_a_huge_or_non_utf8_body_is_refused():
    with pytest.raises(rules.CallbackRejected, match="too_large"):
        rules.parse_event(b"{" + b" " * rules.MAX_EVENT_BYTES + b"}")
    with pytest.raises(rules.CallbackRejected, match="malformed_json"):
        rules.parse_event(b"\xff\xfe")


def test_a_manifest_lists_each_file_with_its_digest_and_checks_them():
    pdf = b"%PDF-1.7 content"
    manifest = rules.build_manifest(portal_dossier_id=9, kind="death", affiliate={"cin": "X1"},
                                    collectivity_code="01.511.01.0",
                                    documents=[("a.pdf", "death_certificate", pdf)])

    assert manifest["documents"] == [{"name": "a.pdf", "code": "death_certificate",
                                      "size": len(pdf), "sha256": rules.sha256_hex(pdf)}]
    assert rules.manifest_errors(manifest) == []
    assert rules.file_errors(manifest, {"a.pdf": pdf}) == []
    assert rules.file_errors(manifest, {"a.pdf": pdf + b"!"}) == [
        "a.pdf: SHA-256 does not match the manifest"]
    assert rules.manifest_fingerprint(manifest) == rules.manifest_fingerprint(
        json.loads(json.dumps(manifest)))


def test_malformed_manifests_are_explained():
    errors = rules.manifest_errors({"documents": [{"name": "../etc/passwd", "sha256": "x"},
                                                  "nope"]})

    assert "portal_dossier_id: required" in errors
    assert "collectivity_code: required" in errors
    assert any(e.startswith("documents[0].name") for e in errors)
    assert any(e.startswith("documents[0].sha256") for e in errors)
    assert "documents[1]: not an object" in errors
    assert rules.manifest_errors([]) == ["manifest: not a JSON object"]


def test_back_office_stage_moves():
    assert rules.can_move("received", "under_review")
    assert rules.can_move("documents_requested", "under_review")
    assert not rules.can_move("received", "in_payment")
    assert not rules.can_move("rejected", "under_review")


def test_backoff_grows_exponentially_up_to_its_cap():
    delays = [rules.backoff_seconds(n, base=1, cap=60, jitter=1.0) for n in range(1, 9)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    assert rules.backoff_seconds(3, base=1, cap=60, jitter=0.0) == 2  # half, at least
