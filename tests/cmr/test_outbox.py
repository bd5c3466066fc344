"""The outbox against the REAL mock back office: certified dossiers delivered once, through failures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cmr import sender
from cmr.models import Transmission
from dossiers import services as dossier_services
from dossiers.models import Dossier, Event
from tests.cmr_mock import TEST_SECRET, wait_until
from tests.dossiers.conftest import affiliate, fill, officers  # noqa: F401
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401


@pytest.fixture
def certified(officers, affiliate, signed_pdf, settings, django_capture_on_commit_callbacks):  # noqa: F811
    """Certify one dossier; the on-commit send runs (eager) against whatever CMR_BASE_URL says."""

    def make():
        manager, agent = officers
        dossier = dossier_services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        fill(agent, dossier, signed_pdf)
        dossier_services.submit(agent, dossier.pk)
        with django_capture_on_commit_callbacks(execute=True):
            dossier_services.certify(manager, dossier.pk)
        return Dossier.objects.get(pk=dossier.pk)

    return make


def due_now(**changes):
    Transmission.objects.filter(status=Transmission.Status.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1), **changes)


@pytest.mark.django_db
class TestOutbox:
    def test_certification_writes_the_transmission_and_delivers_it(self, certified, cmr_mock, settings):
        settings.CMR_BASE_URL = cmr_mock.base_url
        dossier = certified()
        transmission = Transmission.objects.get(dossier=dossier)
        assert transmission.status == "delivered" and transmission.attempts == 1
        assert transmission.idempotency_key == f"{dossier.reference}:1"
        assert dossier.state == "transmitted" and dossier.cmr_reference == transmission.cmr_reference
        assert Event.objects.filter(dossier=dossier, action="transmit").count() == 1
        stats = cmr_mock.stats()
        assert stats["distinct_portal_dossiers"] == 1 and stats["duplicate_deliveries"] == 0
        stored = cmr_mock.get(f"/dossiers/{dossier.cmr_reference}/stages").json()
        assert stored["portal_dossier_id"] == str(dossier.reference)

    def test_a_replay_is_answered_with_the_first_reference_and_changes_nothing(self, certified, cmr_mock,
                                                                               settings):
        settings.CMR_BASE_URL = cmr_mock.base_url
        dossier = certified()
        reference = dossier.cmr_reference
        # as if a worker died after the back office answered: the row is claimable again
        Transmission.objects.update(status="pending", next_attempt_at=timezone.now(), cmr_reference="")
        assert sender.send_transmission(Transmission.objects.get().pk) == sender.SENT
        assert Transmission.objects.get().cmr_reference == reference
        assert sender.send_transmission(Transmission.objects.get().pk) == sender.SKIPPED
        stats = cmr_mock.stats()
        assert stats["distinct_portal_dossiers"] == 1 and stats["duplicate_deliveries"] == 1
        assert Event.objects.filter(dossier=dossier, action="transmit").count() == 1

    def test_mock_down_retries_with_backoff_then_fails_then_staff_retry_delivers(self, certified, cmr_mock,
                                                                                  settings, client):
        from tests.factories import CmrAgentFactory

        settings.CMR_BASE_URL = cmr_mock.base_url
        settings.CMR_SEND_MAX_ATTEMPTS = 3
        cmr_mock.set_faults(down=True)
        dossier = certified()
        transmission = Transmission.objects.get()
        assert transmission.status == "pending" and transmission.attempts == 1
        assert transmission.next_attempt_at > timezone.now() and "503" in transmission.last_error
        assert sender.send_transmission(transmission.pk) == sender.SKIPPED  # not due yet
        for _ in range(2):
            due_now()
            sender.send_transmission(transmission.pk)
        transmission.refresh_from_db()
        assert transmission.status == "failed" and transmission.attempts == 3
        assert Dossier.objects.get(pk=dossier.pk).state == "certified"

        agent = CmrAgentFactory()
        client.force_login(agent)
        page = client.get("/cmr/transmissions/")
        assert page.status_code == 200 and f'data-testid="transmission-{transmission.pk}"' in page.content.decode()
        cmr_mock.set_faults(down=False)
        response = client.post(f"/cmr/transmissions/{transmission.pk}/retry/", {"status": "failed"})
        assert response.status_code == 302
        # the on-commit send of the retry: run it (the test's transaction never commits)
        assert sender.send_transmission(transmission.pk) == sender.SENT
        transmission.refresh_from_db()
        assert transmission.status == "delivered" and transmission.cmr_reference
        assert Dossier.objects.get(pk=dossier.pk).state == "transmitted"

    def test_a_collectivity_account_cannot_see_the_transmissions(self, client, officers):  # noqa: F811
        client.force_login(officers[0])
        assert client.get("/cmr/transmissions/").status_code == 404

    def test_a_non_json_answer_is_retried_never_delivered(self, certified, callback_receiver, settings):
        settings.CMR_BASE_URL = callback_receiver.url  # a stub back office answering an HTML page
        settings.CMR_SEND_MAX_ATTEMPTS = 2
        callback_receiver.default = (200, b"<html>maintenance</html>", "text/html")
        dossier = certified()
        transmission = Transmission.objects.get()
        assert transmission.status == "pending" and "not JSON" in transmission.last_error
        callback_receiver.default = (200, b'{"status": "ok"}', "application/json")  # JSON, no reference
        due_now()
        assert sender.send_transmission(transmission.pk) == sender.FAILED
        transmission.refresh_from_db()
        assert transmission.status == "failed" and not transmission.cmr_reference
        assert "reference" in transmission.last_error
        dossier.refresh_from_db()
        assert dossier.state == "certified" and not dossier.cmr_reference

    def test_a_permanent_refusal_fails_at_once(self, certified, callback_receiver, settings):
        settings.CMR_BASE_URL = callback_receiver.url
        callback_receiver.default = (422, b'{"message": "bad manifest"}', "application/json")
        certified()
        transmission = Transmission.objects.get()
        assert transmission.status == "failed" and transmission.attempts == 1

    def test_backoff_grows_and_is_capped(self, settings):
        settings.CMR_RETRY_BASE_SECONDS, settings.CMR_RETRY_MAX_SECONDS = 10, 100
        assert 5 <= sender.backoff_seconds(1) <= 10
        assert 20 <= sender.backoff_seconds(3) <= 40
        assert 50 <= sender.backoff_seconds(12) <= 100


@pytest.mark.django_db(transaction=True)
def test_callbacks_reach_the_portal_once(certified, cmr_mock_factory, live_server, settings):
    settings.CMR_CALLBACK_SECRET = TEST_SECRET
    mock = cmr_mock_factory(callback_url=f"{live_server.url}/cmr/callbacks/", faults={"duplicate_callbacks": 1})
    settings.CMR_BASE_URL = mock.base_url
    dossier = certified()
    assert dossier.cmr_reference
    wait_until(lambda: Dossier.objects.get(pk=dossier.pk).state == "received", message="received")
    mock.advance(dossier.cmr_reference, "under_review")
    wait_until(lambda: Dossier.objects.get(pk=dossier.pk).state == "under_review", message="under_review")
    wait_until(lambda: mock.stats()["callbacks"]["posts"] >= 4, message="duplicates posted")
    events = list(Event.objects.filter(dossier=dossier).exclude(cmr_event_id="")
                  .values_list("action", flat=True).order_by("at"))
    assert events == ["receive", "review"]
