"""The outbox sends in batches: one claim, one record, one notification task for many dossiers.

Against the REAL mock back office. The dossiers are made certified directly (their documents stored
as files), as the benchmark makes them: what is tested is the sending, not the certification.
"""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail.backends import locmem
from django.db import connection, transaction

from accounts.models import AuditEvent
from cmr import outbox, sender
from cmr.models import Transmission
from dossiers.models import Certification, ChecklistItem, Document, Dossier, DossierKind, Event
from tests.affiliates.factories import AffiliateFactory
from tests.cmr.test_reconcile import lost_callbacks_mock  # noqa: F401
from tests.factories import AgentFactory, ManagerFactory


def certified_dossiers(count):
    manager = ManagerFactory(email="manager@tanger.ma")
    agent = AgentFactory(email="agent@tanger.ma", collectivity=manager.collectivity)
    kind = DossierKind.objects.get(code="age_limit")
    items = list(ChecklistItem.objects.filter(kind=kind).order_by("order")[:2])
    dossiers = [Dossier.objects.create(kind=kind, affiliate=AffiliateFactory(collectivity=manager.collectivity),
                                       collectivity=manager.collectivity, created_by=agent, submitted_by=agent,
                                       state="certified") for _ in range(count)]
    for dossier in dossiers:
        documents = [(item.code, *stored_pdf(f"{dossier.pk} {item.code}")) for item in items]
        for item, (_code, name, size, digest) in zip(items, documents, strict=True):
            Document.objects.create(dossier=dossier, item=item, round=1, uploaded_by=agent, verdict="OK", file=name,
                                    original_name=f"{item.code}.pdf", size=size, sha256=digest)
        slip = stored_pdf(f"{dossier.pk} slip")
        Certification.objects.create(  # what certification stores: the manifest the outbox sends
            dossier=dossier, round=1, certified_by=manager, slip=slip[0], slip_sha256=slip[2],
            manifest=outbox.delivery_record(dossier, documents, slip=slip))
        Transmission.objects.create(dossier=dossier, round=1, idempotency_key=outbox.idempotency_key(dossier, 1))
    return dossiers


def stored_pdf(text) -> tuple[str, int, str]:
    """A small file that starts like a PDF, stored: (stored name, size, SHA-256)."""
    content = b"%PDF-1.7\n" + text.encode() + b"\n%%EOF\n"
    digest = hashlib.sha256(content).hexdigest()
    return default_storage.save(f"batch/{digest}.pdf", ContentFile(content)), len(content), digest


@pytest.mark.django_db
def test_a_batch_is_claimed_sent_and_recorded_together(cmr_mock, settings, django_capture_on_commit_callbacks):
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_BATCH = 3
    dossiers = certified_dossiers(5)
    last = Transmission.objects.get(dossier=dossiers[-1])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = sender.send_transmissions(last.pk)
    assert len(first) == 3 and last.pk in first and set(first.values()) == {sender.SENT}
    assert len(callbacks) == 1  # one notification task for the batch
    with django_capture_on_commit_callbacks(execute=True):
        second = sender.send_transmissions(None)
    assert len(second) == 2 and not set(first) & set(second)
    assert sender.send_transmissions(None) == {}

    for dossier in Dossier.objects.filter(pk__in=[d.pk for d in dossiers]):
        transmission = dossier.transmissions.get()
        assert dossier.state == "transmitted" and dossier.cmr_reference == transmission.cmr_reference
        assert transmission.status == "delivered" and transmission.attempts == 1 and transmission.delivered_at
        event = Event.objects.get(dossier=dossier, action="transmit")
        assert event.from_state == "certified" and event.data["cmr_reference"] == dossier.cmr_reference
        assert AuditEvent.objects.filter(action="dossier.transmit", target_id=str(dossier.pk)).count() == 1
    stats = cmr_mock.stats()
    assert stats["distinct_portal_dossiers"] == 5 and stats["duplicate_deliveries"] == 0
    # one bilingual e-mail per dossier, to its preparer and its manager
    assert len(mail.outbox) == 5
    assert all(sorted(m.to) == ["agent@tanger.ma", "manager@tanger.ma"] for m in mail.outbox)


@pytest.mark.django_db
def test_the_bookkeeping_of_a_batch_does_not_grow_with_its_size(cmr_mock, settings):
    from django.test.utils import CaptureQueriesContext

    settings.CMR_BASE_URL = cmr_mock.base_url
    certified_dossiers(7)
    counts = []
    for size in (2, 5):
        with CaptureQueriesContext(connection) as queries:
            assert len(sender.send_transmissions(None, limit=size)) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_one_refusal_in_a_batch_does_not_hold_back_the_others(cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    dossiers = certified_dossiers(3)
    broken = Document.objects.filter(dossier=dossiers[1]).first()
    default_storage.delete(broken.file.name)  # a stored file lost: staff must look, the others leave
    outcomes = sender.send_transmissions(None)
    by_dossier = {Transmission.objects.get(pk=pk).dossier_id: outcome for pk, outcome in outcomes.items()}
    assert by_dossier == {dossiers[0].pk: sender.SENT, dossiers[1].pk: sender.FAILED,
                          dossiers[2].pk: sender.SENT}
    failed = Transmission.objects.get(dossier=dossiers[1])
    assert failed.status == "failed" and "FileNotFoundError" in failed.last_error
    assert Dossier.objects.get(pk=dossiers[1].pk).state == "certified"


@pytest.mark.django_db(transaction=True)
def test_rows_another_worker_is_claiming_are_skipped_not_waited_for(cmr_mock, settings):
    """SELECT ... FOR UPDATE SKIP LOCKED: a worker never waits for, nor takes, rows another one holds."""
    settings.CMR_BASE_URL = cmr_mock.base_url
    certified_dossiers(4)
    pks = sorted(Transmission.objects.values_list("pk", flat=True))
    held, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(Transmission.objects.select_for_update().filter(pk__in=pks[:2]))
                held.set()
                release.wait(10)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(other_worker)
        assert held.wait(10)
        try:
            outcomes = sender.send_transmissions(pks[0])
        finally:
            release.set()
        future.result()
    assert sorted(outcomes) == pks[2:]
    assert set(Transmission.objects.filter(pk__in=pks[:2]).values_list("status", flat=True)) == {"pending"}
    assert sorted(sender.send_transmissions(None)) == pks[:2]


@pytest.mark.django_db
def test_the_beat_tasks_send_what_was_left_and_recover_lost_callbacks(lost_callbacks_mock, settings):  # noqa: F811
    """The sweep sends due rows whose queue message was lost; the reconciliation applies the stages whose
    callbacks never arrived (here, none does: the portal's callback address is dead)."""
    from cmr import tasks

    mock = lost_callbacks_mock
    settings.CMR_BASE_URL = mock.base_url
    settings.CMR_SEND_BATCH = 2
    settings.CMR_RECONCILE_QUIET_SECONDS = 0
    dossiers = certified_dossiers(5)

    assert tasks.send_due_transmissions() == 5  # one kick, run eagerly here: batches until none is full
    assert set(Transmission.objects.values_list("status", flat=True)) == {"delivered"}
    assert set(Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).values_list("state", flat=True)) == {
        "transmitted"}
    reviewed = Dossier.objects.get(pk=dossiers[0].pk)
    mock.advance(reviewed.cmr_reference, "under_review")

    assert tasks.reconcile() == {"dossiers": 5, "applied": 6, "errors": 0}
    states = dict(Dossier.objects.filter(pk__in=[d.pk for d in dossiers]).values_list("pk", "state"))
    assert states.pop(reviewed.pk) == "under_review" and set(states.values()) == {"received"}
    assert Event.objects.filter(action="receive").count() == 5
    assert tasks.reconcile()["applied"] == 0  # nothing new: applied once


@pytest.mark.django_db
def test_a_stored_file_changed_since_certification_is_refused_not_delivered(cmr_mock, settings):
    """The manifest carries the digest recorded at upload; the back office checks the bytes against it."""
    settings.CMR_BASE_URL = cmr_mock.base_url
    dossier = certified_dossiers(1)[0]
    document = Document.objects.filter(dossier=dossier).first()
    with open(document.file.path, "wb") as fh:
        fh.write(b"%PDF-1.7\nnot what was certified\n%%EOF\n")
    assert sender.send_transmissions(None) == {Transmission.objects.get().pk: sender.FAILED}
    transmission = Transmission.objects.get()
    assert transmission.status == "failed" and not transmission.cmr_reference
    assert "sha" in transmission.last_error.lower()
    assert Dossier.objects.get(pk=dossier.pk).state == "certified"
    assert cmr_mock.stats()["distinct_portal_dossiers"] == 0


@pytest.mark.django_db
def test_a_batch_out_of_time_puts_the_rest_back_due_at_once(cmr_mock, settings):
    """No send starts after CMR_SEND_BATCH_SECONDS: the rows left are pending again, untried, due now."""
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_BATCH_SECONDS = 0.3
    cmr_mock.set_faults(latency_ms=400)
    certified_dossiers(3)
    before = sender.timezone.now()
    outcomes = sender.send_transmissions(None)
    assert sorted(outcomes.values()) == [sender.SENT, sender.RETRY, sender.RETRY]
    put_back = Transmission.objects.filter(status="pending")
    assert put_back.count() == 2
    assert all(t.attempts == 0 and t.next_attempt_at <= sender.timezone.now() and t.locked_until is None
               and t.next_attempt_at >= before for t in put_back)
    cmr_mock.set_faults(latency_ms=0)
    settings.CMR_SEND_BATCH_SECONDS = 30
    assert set(sender.send_transmissions(None).values()) == {sender.SENT}
    assert cmr_mock.stats()["distinct_portal_dossiers"] == 3


def test_the_lease_of_a_batch_is_bounded_by_its_time_budget(settings):
    settings.CMR_SEND_BATCH_SECONDS, settings.CMR_CONNECT_TIMEOUT, settings.CMR_READ_TIMEOUT = 30, 3, 30
    settings.CMR_SEND_LEASE_MARGIN_SECONDS = 30
    settings.CMR_SEND_BATCH = 500  # the lease does not grow with the batch
    assert sender.batch_lease_seconds() == 93


@pytest.mark.django_db
def test_a_sender_whose_lease_ran_out_does_not_overwrite_the_next_ones_claim(cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    certified_dossiers(1)
    [first] = sender.claim_batch(None)
    Transmission.objects.update(locked_until=sender.timezone.now() - sender.timedelta(seconds=1))
    [second] = sender.claim_batch(None)  # another worker takes the abandoned row
    assert second.claimed_at != first.claimed_at
    late = sender._Outcome(error="HTTP 503", retryable=True, claimed_at=first.claimed_at)
    assert sender._record_outcomes({first.pk: late}) == {first.pk: sender.SKIPPED}
    row = Transmission.objects.get()
    assert row.status == "sending" and row.claimed_at == second.claimed_at and row.last_error == ""


@pytest.mark.django_db
def test_a_row_abandoned_at_every_attempt_is_failed_for_staff_not_retried_forever(cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_MAX_ATTEMPTS = 3
    certified_dossiers(2)
    stuck = Transmission.objects.order_by("pk").first()
    Transmission.objects.filter(pk=stuck.pk).update(
        status="sending", attempts=3, locked_until=sender.timezone.now() - sender.timedelta(seconds=1))
    outcomes = sender.send_transmissions(None)
    assert stuck.pk not in outcomes and list(outcomes.values()) == [sender.SENT]
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "no outcome was recorded" in stuck.last_error
    assert cmr_mock.stats()["distinct_portal_dossiers"] == 1


@pytest.mark.django_db
def test_when_a_batch_cannot_be_recorded_its_rows_are_recorded_one_by_one(cmr_mock, settings, monkeypatch):
    from django.db import DatabaseError

    settings.CMR_BASE_URL = cmr_mock.base_url
    certified_dossiers(3)
    record = sender._record_outcomes

    def refuse_batches(outcomes):
        if len(outcomes) > 1:
            raise DatabaseError("deadlock detected")
        return record(outcomes)

    monkeypatch.setattr(sender, "_record_outcomes", refuse_batches)
    outcomes = sender.send_transmissions(None)
    assert len(outcomes) == 3 and set(outcomes.values()) == {sender.SENT}
    assert set(Transmission.objects.values_list("status", flat=True)) == {"delivered"}
    assert Event.objects.filter(action="transmit").count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("answer", [
    (302, b'{"reference": "CMR-2026-1"}', "application/json"),  # not a receipt, whatever it says
    (201, b'{"reference": "' + b"R" * 65 + b'"}', "application/json"),  # longer than the portal keeps
])
def test_an_answer_that_is_not_a_usable_receipt_is_retried_never_delivered(callback_receiver, settings, answer):
    settings.CMR_BASE_URL = callback_receiver.url
    certified_dossiers(1)
    callback_receiver.default = answer
    assert list(sender.send_transmissions(None).values()) == [sender.RETRY]
    row = Transmission.objects.get()
    assert row.status == "pending" and not row.cmr_reference and row.attempts == 1
    assert Dossier.objects.get().state == "certified"


class _RefusingBackend(locmem.EmailBackend):
    """Refuses the e-mail of one address, as an SMTP server may; keeps the others in mail.outbox."""

    def send_messages(self, messages):
        if any("refused" in address for m in messages for address in m.to):
            raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_one_refused_e_mail_does_not_lose_the_others_of_the_batch(cmr_mock, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.EMAIL_BACKEND = f"{__name__}._RefusingBackend"
    dossiers = certified_dossiers(3)
    refused = AgentFactory(email="refused@tanger.ma", collectivity=dossiers[1].collectivity)
    Dossier.objects.filter(pk=dossiers[1].pk).update(submitted_by=refused)
    with django_capture_on_commit_callbacks(execute=True):
        sender.send_transmissions(None)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_outbox_command_sends_every_due_row_in_batches(cmr_mock, settings):
    """Embedded mode has no beat: ``manage.py cmr_outbox`` sends what is due, batch after batch."""
    from io import StringIO

    from django.core.management import call_command

    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_BATCH = 2
    certified_dossiers(5)
    out = StringIO()
    call_command("cmr_outbox", stdout=out)
    assert out.getvalue().strip() == "delivered: 5"
    assert set(Transmission.objects.values_list("status", flat=True)) == {"delivered"}
    out = StringIO()
    call_command("cmr_outbox", stdout=out)  # nothing left: nothing said
    assert out.getvalue() == ""
