"""Activation that cannot be lost: the link e-mails' outbox (accounts/mail.py) against a real SMTP server.

The mail server is down when the DGCT confirms an import: the accounts are committed, the page
answers at once and says which e-mails failed; when the server is back, the worker sends every
officer one working link, none twice.
"""

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from accounts import mail
from accounts.models import ActivationLink, DesignationImport, LinkEmail, User
from accounts.services import apply_designation, check_activation_token, issue_activation_link, preview_designation
from tests.accounts.sheets import officer, workbook
from tests.accounts.test_designation import unique_communes
from tests.cmr_mock import wait_until
from tests.factories import DgctAdminFactory
from tests.smtp import MailServer, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"/activate/([\w-]+)/")


@pytest.fixture
def smtp_settings(settings):
    """The portal sends through SMTP to a port where, for now, nothing listens."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return port


def designation_file(count):
    return workbook([officer(n, collectivity=name) for n, name in enumerate(unique_communes(count), start=1)])


def tokens_by_recipient(server):
    found = {}
    with server.lock:
        for recipients, message in server.messages:
            part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
            body = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            for recipient in recipients:
                found.setdefault(recipient, []).append(TOKEN.search(body).group(1))
    return found


def assert_one_working_link_each(server, users):
    tokens = tokens_by_recipient(server)
    assert sorted(tokens) == sorted(u.email for u in users)
    for user in users:
        (token,) = tokens[user.email]  # one e-mail each, never two
        assert check_activation_token(token).user == user


@pytest.mark.django_db
def test_confirmed_with_the_mail_server_down_then_back(client, smtp_settings, django_capture_on_commit_callbacks):
    dgct = DgctAdminFactory(is_superuser=True)
    with translation.override("fr"):
        record, _rows = preview_designation(designation_file(30), filename="designations.xlsx", by=dgct)
    client.force_login(dgct)
    url = reverse("admin:accounts_designation_preview", args=[record.pk])
    with django_capture_on_commit_callbacks(execute=True):  # the eager worker tries at once, and fails
        response = client.post(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302  # no 500: the accounts are committed whatever the mail server does
    officers = list(User.objects.filter(role="manager").order_by("cin"))
    assert len(officers) == 30
    emails = LinkEmail.objects.filter(designation=record)
    assert emails.count() == 30 and set(emails.values_list("status", flat=True)) == {"failed"}
    assert all(e.next_attempt_at and e.attempts == 1 and "Connection" in e.last_error for e in emails)
    assert not ActivationLink.objects.exists()  # no link was made that nobody received
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "0 remis au serveur de messagerie" in page and "30 en échec" in page
    assert page.count("prochain essai") == 30  # each account says so, with when it is tried again
    record.refresh_from_db()
    assert len(record.outcomes) == 30

    # The same file again: nothing to change, and nothing queued twice.
    with translation.override("fr"):
        again, rows = preview_designation(designation_file(30), filename="designations.xlsx", by=dgct)
    assert {r.action for r in rows} == {"unchanged"}

    server = MailServer(smtp_settings).start()
    try:
        later = timezone.now() + timedelta(hours=2)
        assert mail.send_all_due(now=later) == {"delivered": 30, "failed": 0, "unreachable": 0}
        assert mail.send_all_due(now=later + timedelta(hours=2)) == {"delivered": 0, "failed": 0, "unreachable": 0}
        assert_one_working_link_each(server, officers)
    finally:
        server.stop()
    assert set(emails.values_list("status", flat=True)) == {"delivered"}
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "سُلّمت إلى خادم البريد" in page


@pytest.mark.django_db
def test_an_email_that_keeps_failing_is_given_up_then_sent_again_by_the_dgct(client, settings, smtp_settings):
    settings.LINK_EMAIL_MAX_ATTEMPTS = 3
    dgct = DgctAdminFactory(is_superuser=True)
    with translation.override("fr"):
        record, _rows = preview_designation(designation_file(2), filename="d.xlsx", by=dgct)
    apply_designation(record, by=dgct)
    now = timezone.now()
    for attempt in range(3):
        mail.send_due(now=now + timedelta(days=attempt + 1))
    emails = list(LinkEmail.objects.filter(designation=record))
    assert all(e.gave_up and e.attempts == 3 for e in emails)
    assert mail.send_due(now=now + timedelta(days=30))["failed"] == 0  # not tried any more by itself
    client.force_login(dgct)
    url = reverse("admin:accounts_designation_preview", args=[record.pk])
    assert "renvoyez-le" in client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    server = MailServer(smtp_settings).start()
    try:
        settings.CELERY_TASK_ALWAYS_EAGER = True
        response = client.post(url, {"action": "retry"}, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 302
        mail.send_all_due()
        assert_one_working_link_each(server, [e.user for e in emails])
    finally:
        server.stop()


@pytest.mark.django_db
def test_a_refused_recipient_fails_alone(smtp_settings):
    """The server accepts the connection but refuses one address: that e-mail fails, the others go."""
    class Picky(MailServer):
        def start(self):
            from aiosmtpd.controller import Controller

            box = self

            class Handler:
                async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
                    if address.startswith("refused"):
                        return "550 no such mailbox"
                    envelope.rcpt_tos.append(address)
                    return "250 OK"

                async def handle_DATA(self, server, session, envelope):  # noqa: N802
                    from email import message_from_bytes

                    with box.lock:
                        box.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
                    return "250 OK"

            self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
            self.controller.start()
            return self

    from tests.factories import AgentFactory, ManagerFactory

    good, bad = ManagerFactory(email="ok@commune.ma"), AgentFactory(email="refused@commune.ma")
    for user in (good, bad):
        issue_activation_link(user)
    server = Picky(smtp_settings).start()
    try:
        assert mail.send_due() == {"delivered": 1, "failed": 1, "unreachable": 0}
        assert_one_working_link_each(server, [good])
    finally:
        server.stop()
    failed = LinkEmail.objects.get(user=bad)
    assert failed.status == "failed" and "550" in failed.last_error and failed.next_attempt_at
    assert not ActivationLink.objects.filter(user=bad).exists()


# --- with a real Celery worker ----------------------------------------------------------------------

QUEUE = "link-email-test"


def start_worker(tmp_path, email_port, settings):
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "EMAIL_", "LINK_EMAIL_"))}
    env.update({
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "EMAIL_URL": f"smtp://127.0.0.1:{email_port}", "EMAIL_TIMEOUT": "3",
        "LINK_EMAIL_RETRY_BASE_SECONDS": "0.5", "LINK_EMAIL_RETRY_MAX_SECONDS": "1", "LINK_EMAIL_SWEEP_SECONDS": "1",
        "PYTHONUNBUFFERED": "1", "DJANGO_DEBUG": "false",
    })
    args = [sys.executable, "-m", "celery", "-A", "eretraite", "worker", "--pool", "solo", "-Q", QUEUE,
            "-n", f"mail-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            "-B", "-s", str(tmp_path / "beat-schedule")]
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_every_link_once_when_the_mail_server_comes_back(tmp_path, settings, monkeypatch):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    from eretraite.celery import app

    app.conf.task_always_eager = False  # the autouse _eager_celery fixture sets it back
    monkeypatch.setitem(app.conf, "task_default_queue", QUEUE)
    port = free_port()
    worker, log = start_worker(tmp_path, port, settings)
    server = None
    try:
        dgct = DgctAdminFactory(is_superuser=True)
        with translation.override("fr"):
            record, _rows = preview_designation(designation_file(40), filename="designations.xlsx", by=dgct)
        apply_designation(record, by=dgct)  # commits: the e-mails are queued and the worker woken
        emails = LinkEmail.objects.filter(designation=record)
        wait_until(lambda: emails.filter(attempts__gte=1).count() == 40, timeout=60,
                   message="the worker did not try the e-mails")
        assert not emails.filter(status="delivered").exists()
        server = MailServer(port).start()
        wait_until(lambda: emails.filter(status="delivered").count() == 40, timeout=60,
                   message="the e-mails were not sent once the server was back")
        time.sleep(3)  # the sweep keeps running: nothing is sent twice
        assert_one_working_link_each(server, list(User.objects.filter(role="manager")))
    finally:
        worker.terminate()
        worker.wait(20)
        log.close()
        if server:
            server.stop()
        if worker.returncode not in (0, -15):
            print((tmp_path / "worker.log").read_text()[-4000:])
    assert DesignationImport.objects.get().status == "applied"
