"""A burst of certifications wakes the workers with a few "kick" tasks, not one task per dossier.

The queueing is what a deployment with a broker does (``outbox.eager`` off); the tasks it would queue are
recorded here and run by hand, against the REAL mock back office and the real cache (Redis).
"""

import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache

from cmr import outbox, sender, tasks
from cmr.models import Transmission
from tests.cmr.test_outbox_batch import certified_dossiers
from tests.cmr_mock import ROOT


@pytest.fixture
def queued(monkeypatch):
    """As with a broker: ``outbox.queue`` kicks; the tasks it would queue are recorded, not run."""
    calls = []
    monkeypatch.setattr(outbox, "eager", lambda: False)
    monkeypatch.setattr(outbox, "publish", lambda pk, countdown=None: calls.append((pk, countdown)))
    cache.delete(outbox.KICK_KEY)
    yield calls
    cache.delete(outbox.KICK_KEY)


@pytest.mark.django_db
def test_a_burst_of_certifications_queues_one_kick_until_a_worker_takes_it(queued, cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_BATCH = 2
    pks = [Transmission.objects.get(dossier=d).pk for d in certified_dossiers(5)]

    for pk in pks:  # what each certification's on-commit does
        outbox.queue(pk)
    assert queued == [(None, None)]  # one kick for the five

    results = sender.drain()  # the worker takes the kick: the key goes, batches follow until none is full
    assert sorted(results) == pks and set(results.values()) == {sender.SENT}
    assert set(Transmission.objects.values_list("status", flat=True)) == {"delivered"}
    # the first full batch called another thread in (the key was clear); the second found one called
    assert queued == [(None, None), (None, None)]
    outbox.queue(pks[0])  # a kick is queued and not started: nothing more
    assert len(queued) == 2


@pytest.mark.django_db
def test_a_certification_after_the_kick_started_queues_its_own(queued):
    assert outbox.kick() is True
    assert outbox.kick() is False
    sender.drain()  # nothing due: it ends at once, having cleared the key
    assert outbox.kick() is True
    assert queued == [(None, None), (None, None)]


@pytest.mark.django_db
def test_a_kick_lost_with_its_message_holds_the_key_only_for_a_while(queued, settings):
    settings.CMR_KICK_SECONDS = 1
    assert outbox.kick() is True
    assert outbox.kick() is False
    time.sleep(1.2)  # its task never started (the broker lost it): the key has expired
    assert outbox.kick() is True


@pytest.mark.django_db
def test_a_retry_keeps_its_own_delayed_task(queued):
    outbox.queue(7, countdown=12.5)
    assert queued == [(7, 12.5)]
    assert cache.get(outbox.KICK_KEY) is None


@pytest.mark.django_db
def test_a_kick_that_could_not_be_queued_leaves_the_way_open(queued, monkeypatch, caplog):
    def broker_down(pk, countdown=None):
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox, "publish", broker_down)
    outbox.queue(1)  # the certification is not failed by it
    assert "could not queue the send" in caplog.text
    assert cache.get(outbox.KICK_KEY) is None  # the next certification tries again
    monkeypatch.setattr(outbox, "publish", lambda pk, countdown=None: queued.append((pk, countdown)))
    outbox.queue(2)
    assert queued == [(None, None)]


@pytest.mark.django_db
def test_without_its_cache_a_kick_is_queued_anyway(queued, monkeypatch):
    def cache_down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", cache_down)
    assert outbox.kick() is True and outbox.kick() is True
    assert queued == [(None, None), (None, None)]


@pytest.mark.django_db
def test_the_sweep_kicks_even_when_a_lost_kick_still_holds_the_key(queued, cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    certified_dossiers(3)
    assert outbox.kick() is True  # then the broker lost that message: the key stays for CMR_KICK_SECONDS
    assert outbox.kick() is False
    assert tasks.send_due_transmissions() == 3
    assert queued == [(None, None), (None, None)]


@pytest.mark.django_db
def test_a_kick_stops_after_its_time_budget_and_hands_over(queued, cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    settings.CMR_SEND_BATCH = 2
    certified_dossiers(5)

    results = sender.drain(budget_seconds=0)  # one full batch, then the budget is spent
    assert len(results) == 2
    assert queued == [(None, None)]  # the full batch's kick carries on (the hand-over found it queued)
    assert Transmission.objects.filter(status="pending").count() == 3
    cache.delete(outbox.KICK_KEY)
    assert len(sender.drain()) == 3


@pytest.mark.django_db
def test_in_embedded_mode_a_certification_is_sent_at_once(cmr_mock, settings):
    settings.CMR_BASE_URL = cmr_mock.base_url
    pk = Transmission.objects.get(dossier=certified_dossiers(1)[0]).pk
    outbox.queue(pk)  # eager, as in the tests and in make run: the task ran in this call
    assert Transmission.objects.get(pk=pk).status == "delivered"
    assert cache.get(outbox.KICK_KEY) is None


def test_the_send_task_is_registered_at_django_s_start_in_any_process():
    """The outbox queues ``cmr.send_transmission`` by its name (it imports neither the task nor the
    sender): starting Django registers it (``cmr.apps``), in a web process or a command as in a
    worker, here in embedded mode, where a missing task would leave every certification unsent."""
    code = ("import django; django.setup(); from eretraite.celery import app; from cmr import outbox; "
            "print(app.conf.task_always_eager, app.tasks[outbox.SEND_TASK].__module__)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "eretraite.settings", "CELERY_TASK_ALWAYS_EAGER": "true"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True cmr.tasks"
