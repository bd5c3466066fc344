"""THE fault test of the outbox: nothing lost, nothing doubled, through every failure at once.

Real processes: the mock back office (30 % errors, 10 % timeouts, down 20 s, every callback twice),
Celery worker(s) with beat on a Redis server of the test's own (restarted once mid-run, so queued
messages are lost), the portal's callback endpoint on a live server. Run alone with
``pytest -m fault``; bounded to a few minutes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count

from cmr import outbox
from cmr.models import CmrEvent, StageConflict, Transmission
from dossiers import services as dossier_services
from dossiers.models import ChecklistItem, Document, Dossier, DossierKind, Event
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.cmr_mock import ROOT, TEST_SECRET, wait_until
from tests.dossiers.conftest import BASIC, affiliate, officers  # noqa: F401
from tests.factories import CmrAgentFactory
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = [pytest.mark.fault, pytest.mark.slow]

DOSSIERS = 200
QUEUE = "outbox-fault-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, without persistence: a restart loses every queued message."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="outbox-redis-")
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._up, timeout=10, message="redis-server did not start")
        return self

    def _up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self):
        self.stop()
        return self.start()


def start_worker(redis, mock, media_root, log_dir, name, *, beat, pool="threads", concurrency=4):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CMR_", "CELERY_"))}
    db = connection.settings_dict
    env.update({
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis.url, "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "CMR_BASE_URL": mock.base_url, "CMR_CONNECT_TIMEOUT": "1", "CMR_READ_TIMEOUT": "1.5",
        "CMR_RETRY_BASE_SECONDS": "0.5", "CMR_RETRY_MAX_SECONDS": "4", "CMR_SEND_MAX_ATTEMPTS": "1000",
        "CMR_SEND_LEASE_MARGIN_SECONDS": "3", "CMR_SEND_BATCH": str(django_settings.CMR_SEND_BATCH),
        "CMR_SEND_BATCH_SECONDS": "5",
        "CMR_SWEEP_SECONDS": "2", "CMR_RECONCILE_SECONDS": "3600",
        "MEDIA_ROOT": str(media_root), "EMAIL_URL": "dummymail://", "PYTHONUNBUFFERED": "1",
        "DATABASE_CONN_MAX_AGE": "60", "DJANGO_DEBUG": "false",  # as deployed: no reconnection per task,
        # no query log growing in a long-running process
    })
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    args = [sys.executable, "-m", "celery", "-A", "eretraite", "worker", "--pool", pool,
            "--concurrency", str(concurrency), "-Q", QUEUE, "-n", f"{name}@%h", "--without-gossip",
            "--without-mingle", "--loglevel", os.environ.get("BENCH_LOGLEVEL", "INFO")]
    if beat:
        args += ["-B", "-s", str(Path(log_dir) / f"beat-{name}")]
    log = open(Path(log_dir) / f"{name}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log


def make_certifiable(officers, affiliate, signed_pdf, count):  # noqa: F811
    """``count`` dossiers awaiting certification, each with the seven signed documents (shared files)."""
    manager, agent = officers
    kind = DossierKind.objects.get(code="age_limit")
    items = {i.code: i for i in ChecklistItem.objects.filter(kind=kind, code__in=BASIC)}
    stored = {}
    for code in BASIC:
        data = signed_pdf(cin="CD789012", text=f"fault test {code}")

        digest = hashlib.sha256(data).hexdigest()
        stored[code] = (default_storage.save(f"fault/{digest}.pdf", ContentFile(data)), digest, len(data))
    affiliates = [affiliate] + [with_career(AffiliateFactory(birth_date=affiliate.birth_date,
                                                             collectivity=affiliate.collectivity))
                                for _ in range(count - 1)]
    dossiers = Dossier.objects.bulk_create([
        Dossier(kind=kind, affiliate=a, collectivity=a.collectivity, created_by=agent,
                submitted_by=agent, state="awaiting_certification") for a in affiliates])
    Document.objects.bulk_create([
        Document(dossier=d, item=items[code], file=stored[code][0], original_name=f"{code}.pdf",
                 size=stored[code][2], sha256=stored[code][1], round=1, uploaded_by=agent, verdict="OK",
                 signer="Youssef Benali", signer_serial_number="CD789012")
        for d in dossiers for code in BASIC])
    return manager, [d.pk for d in dossiers]


def run_fault_scenario(*, workers, officers, affiliate, signed_pdf, cmr_mock_factory, live_server, settings,  # noqa: F811
                       monkeypatch, tmp_path):
    from celery import Celery

    settings.CMR_CALLBACK_SECRET = TEST_SECRET
    redis = OwnRedis().start()
    mock = cmr_mock_factory(
        callback_url=f"{live_server.url}/cmr/callbacks/",
        faults={"error_rate": 0.3, "timeout_rate": 0.1, "timeout_seconds": 2.5, "duplicate_callbacks": 1,
                "seed": 6})
    settings.CMR_BASE_URL = mock.base_url
    producer = Celery("outbox-fault-producer", broker=redis.url, set_as_current=False)
    producer.conf.broker_connection_retry_on_startup = False

    def publish(pk, countdown=None):  # the portal's tasks, to the test's own Redis
        producer.send_task("cmr.send_transmission", args=(pk,), queue=QUEUE, countdown=countdown, retry=False)

    # The certifications queue their sends as with a broker (kicks, their key in the workers' Redis).
    monkeypatch.setattr(outbox, "publish", publish)
    monkeypatch.setattr(outbox, "eager", lambda: False)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis.url}}
    procs = []
    try:
        for i in range(workers):
            procs.append(start_worker(redis, mock, settings.MEDIA_ROOT, tmp_path, f"w{i}", beat=(i == 0)))
        manager, pks = make_certifiable(officers, affiliate, signed_pdf, DOSSIERS)
        started = time.monotonic()
        for n, pk in enumerate(pks):
            dossier_services.certify(manager, pk)  # the outbox row in the certification's transaction
            if n == DOSSIERS // 4:
                mock.set_faults(down_for_seconds=20)
            if n == DOSSIERS // 2:
                redis.restart()  # every queued message is lost
        assert Transmission.objects.count() == DOSSIERS
        certified = time.monotonic()

        restarts = []

        def done():
            # kombu 5.7 may exit on a lost Redis connection ("Unrecoverable error" while restoring unacked
            # messages); a supervisor (docker-compose's restart policy) starts it again: so do we.
            for i, (proc, log) in enumerate(procs):
                if proc.poll() is not None:
                    log.close()
                    restarts.append(i)
                    procs[i] = start_worker(redis, mock, settings.MEDIA_ROOT, tmp_path, f"w{i}-{len(restarts)}",
                                            beat=(i == 0))
                    assert len(restarts) <= 4 * workers, "workers keep dying"
            return (Transmission.objects.filter(status="delivered").count() == DOSSIERS
                    and Dossier.objects.filter(pk__in=pks, state="received").count() == DOSSIERS)

        wait_until(done, timeout=150, interval=1, message=(
            f"not all delivered and received: {dict(Transmission.objects.values_list('status').annotate(Count('pk')))}"
            f" {dict(Dossier.objects.values_list('state').annotate(Count('pk')))}"))
        print(f"{DOSSIERS} certified in {certified - started:.0f} s; all delivered and received "
              f"{time.monotonic() - certified:.0f} s later; worker restarts: {restarts}")
        mock.set_faults(error_rate=0, timeout_rate=0)  # the checks below read the mock's API
        stats = mock.stats()
        assert stats["dossiers_received"] == DOSSIERS and stats["distinct_portal_dossiers"] == DOSSIERS, stats
        assert stats["injected_faults"], stats  # the faults really happened
        references = set(Dossier.objects.filter(pk__in=pks).values_list("cmr_reference", flat=True))
        assert len(references) == DOSSIERS and "" not in references
        for reference in list(references)[:20]:  # each exactly once in the mock's storage
            assert len(mock.get("/dossiers", params={"portal_dossier_id": Dossier.objects.get(
                cmr_reference=reference).reference}).json()["results"]) == 1
        assert Event.objects.filter(dossier_id__in=pks, action="transmit").count() <= DOSSIERS
        per_dossier = Event.objects.filter(dossier_id__in=pks, action="receive").values("dossier_id") \
            .annotate(n=Count("pk"))
        assert len(per_dossier) == DOSSIERS and {row["n"] for row in per_dossier} == {1}
        assert CmrEvent.objects.count() == DOSSIERS

        # A CMR agent takes a stage on a quarter of them in the portal while the back office goes down:
        # each is a command the workers deliver later; the portal moves only on the back office's word.
        agent = CmrAgentFactory()
        reviewed = pks[: DOSSIERS // 4]
        mock.set_faults(down_for_seconds=5)
        for pk in reviewed:
            dossier_services.take_action(agent, pk, "review")
        commands = Transmission.objects.filter(kind="command")
        wait_until(lambda: Dossier.objects.filter(pk__in=reviewed, state="under_review").count() == len(reviewed),
                   timeout=90, interval=1,
                   message=f"commands not confirmed: {dict(commands.values_list('status').annotate(Count('pk')))}")
        per_dossier = Event.objects.filter(dossier_id__in=reviewed, action="review").values("dossier_id") \
            .annotate(n=Count("pk"))
        assert {row["n"] for row in per_dossier} == {1} and len(per_dossier) == len(reviewed)
        # The two records agree on every dossier, and no report is left in conflict.
        disagree = []
        for dossier in Dossier.objects.filter(pk__in=pks):
            stage = mock.get(f"/dossiers/{dossier.cmr_reference}/stages").json()["stage"]
            if stage != dossier.state:
                disagree.append((dossier.cmr_reference, dossier.state, stage))
        assert disagree == []
        assert not StageConflict.objects.filter(resolved_at=None).exists()
        print(f"portal and back office agree on all {DOSSIERS} dossiers ({len(reviewed)} reviewed by command)")
        return stats
    finally:
        for proc, log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log.close()
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [1, 2])
def test_every_dossier_delivered_once_through_faults(workers, officers, affiliate, signed_pdf,  # noqa: F811
                                                     cmr_mock_factory, live_server, settings, monkeypatch,
                                                     tmp_path):
    run_fault_scenario(workers=workers, officers=officers, affiliate=affiliate, signed_pdf=signed_pdf,
                       cmr_mock_factory=cmr_mock_factory, live_server=live_server, settings=settings,
                       monkeypatch=monkeypatch, tmp_path=tmp_path)
