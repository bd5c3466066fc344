"""Stage reports whose callbacks were lost are recovered by asking the back office."""

import pytest
from django.urls import reverse

from cmr import rules, stages
from cmr.client import CmrClient
from cmr.models import CmrEvent
from tests.cmr_mock import RecordingServer, make_delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(monkeypatch):
    applied = []
    monkeypatch.setattr(stages, "apply_stage_event", applied.append)
    return applied


@pytest.fixture
def lost_callbacks_mock(cmr_mock_factory):
    """A mock whose callbacks go nowhere (the portal was unreachable)."""
    probe = RecordingServer()
    url = f"{probe.url}/cmr/callbacks/"
    probe.stop()
    return cmr_mock_factory(callback_url=url)


def test_reconciliation_applies_the_missed_stages_in_order_once(lost_callbacks_mock, workflow):
    mock = lost_callbacks_mock
    manifest, files = make_delivery("31")
    reference = mock.deliver("key-31", manifest, files).json()["reference"]
    mock.advance(reference, "under_review")
    mock.advance(reference, "liquidated")
    client = CmrClient(mock.base_url)

    first = stages.reconcile_stages(reference, client=client)
    again = stages.reconcile_stages(reference, client=client)

    assert [outcome for _, outcome in first] == ["applied"] * 3
    assert [outcome for _, outcome in again] == ["duplicate"] * 3
    assert [(e.stage, e.portal_dossier_id) for e in workflow] == [
        ("received", "31"), ("under_review", "31"), ("liquidated", "31")]
    assert CmrEvent.objects.count() == 3


def test_a_late_callback_after_reconciliation_changes_nothing(client, lost_callbacks_mock,
                                                              workflow, settings):
    settings.CMR_CALLBACK_SECRET = "test-callback-secret-0123456789"
    mock = lost_callbacks_mock
    manifest, files = make_delivery("32")
    reference = mock.deliver("key-32", manifest, files).json()["reference"]
    stages.reconcile_stages(reference, client=CmrClient(mock.base_url))
    # The callback the back office could not deliver arrives at last: same event id.
    entry = mock.get(f"/dossiers/{reference}/stages").json()["history"][0]
    body = rules.StageEvent(event_id=entry["event_id"], cmr_reference=reference,
                            portal_dossier_id="32", stage="received",
                            occurred_at=rules.parse_datetime(entry["occurred_at"])).to_json()

    answer = client.post(reverse("cmr:callback"), data=body, content_type="application/json",
                         headers=rules.signature_headers(settings.CMR_CALLBACK_SECRET, body))

    assert answer.json()["status"] == "duplicate"
    assert len(workflow) == 1


def test_reconciliation_stops_at_an_unknown_dossier_and_records_nothing(lost_callbacks_mock):
    mock = lost_callbacks_mock
    manifest, files = make_delivery("33")
    reference = mock.deliver("key-33", manifest, files).json()["reference"]

    with pytest.raises(stages.UnknownDossier):
        stages.reconcile_stages(reference, client=CmrClient(mock.base_url))

    assert CmrEvent.objects.count() == 0
