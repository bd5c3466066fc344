"""The password's life: changed by its holder, reset by e-mail when forgotten (telling nobody which
logins exist), and the account locked after a long time unused, warned before."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.mail import new_link
from accounts.models import ActivationLink, AuditEvent, User
from tests.factories import PASSWORD, AgentFactory, ManagerFactory, log_in

pytestmark = pytest.mark.django_db

NEW = "Another-strong-password-77"


def _link(message):
    return next(line for line in message.body.splitlines() if "/activate/" in line).strip()


def test_forgotten_password_by_login_or_e_mail_sends_one_bilingual_link(client, django_capture_on_commit_callbacks,
                                                                        settings):
    settings.SITE_URL = "http://testserver"
    agent = AgentFactory(email="salma@tanger.ma")
    login = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert reverse("password_reset") in login
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("password_reset"), {"identifier": agent.username.lower()},
                             HTTP_ACCEPT_LANGUAGE="fr")
    assert 'data-testid="reset-sent"' in answer.content.decode()
    (message,) = mail.outbox
    assert message.to == ["salma@tanger.ma"]
    assert "nouveau mot de passe" in message.subject and "كلمة مرور جديدة" in message.subject
    assert "2 heures" in message.body or "2 heure" in message.body
    # a second request a moment later sends nothing more (the first link is in the mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"identifier": "SALMA@tanger.ma"})
    assert len(mail.outbox) == 1
    # the link sets a new password, once; the old one stops working
    page = client.get(_link(message).replace("http://testserver", ""), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Choisissez un nouveau mot de passe" in page.content.decode()
    client.post(_link(message).replace("http://testserver", ""), {"password1": NEW, "password2": NEW})
    assert log_in(type(client)(), agent.username, NEW)
    assert not log_in(type(client)(), agent.username, PASSWORD)
    assert client.get(_link(message).replace("http://testserver", "")).status_code == 410
    assert AuditEvent.objects.filter(action="account.password_reset", target_id=str(agent.pk)).exists()


@pytest.mark.parametrize("identifier", ["ZZ999999", "nobody@nowhere.ma", "x" * 254, "' OR 1=1 --"])
def test_an_unknown_login_gets_the_same_answer_and_no_mail(client, identifier, django_capture_on_commit_callbacks):
    AgentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("password_reset"), {"identifier": identifier}, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200 and 'data-testid="reset-sent"' in answer.content.decode()
    assert mail.outbox == []


def test_a_disabled_account_gets_no_link(client, django_capture_on_commit_callbacks):
    agent = AgentFactory(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"identifier": agent.username})
    assert mail.outbox == []


def test_the_reset_keeps_the_second_factor(client, django_capture_on_commit_callbacks):
    from tests.otp import enrolled

    manager = ManagerFactory()
    enrolled(manager)
    _link, token = new_link(manager, purpose=ActivationLink.Purpose.RESET)
    client.post(reverse("activate", args=[token]), {"password1": NEW, "password2": NEW})
    assert log_in(client, manager.username, NEW, second_factor=False)
    assert client.get(reverse("home"))["Location"].startswith(reverse("second_factor_verify"))


def test_change_password_checks_the_old_one_and_ends_the_other_sessions(client):
    agent = AgentFactory()
    elsewhere = type(client)()
    elsewhere.force_login(agent)
    client.force_login(agent)
    wrong = client.post(reverse("password_change"), {"old_password": "nope", "new_password1": NEW,
                                                     "new_password2": NEW}, HTTP_ACCEPT_LANGUAGE="fr")
    assert wrong.status_code == 200 and "ancien mot de passe" in wrong.content.decode()
    answer = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW,
                                                      "new_password2": NEW})
    assert answer.status_code == 302
    assert client.get(reverse("home")).status_code == 200  # this session stays
    assert elsewhere.get(reverse("home")).status_code == 302  # the other one ended
    assert AuditEvent.objects.filter(action="account.password_changed", target_id=str(agent.pk)).exists()


def _unused_for(user, days):
    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(days=days),
                                           date_joined=timezone.now() - timedelta(days=days + 10))
    user.refresh_from_db()


def test_an_account_unused_for_long_is_warned_once_then_locked(client, settings):
    settings.ACCOUNT_INACTIVITY_DAYS, settings.ACCOUNT_INACTIVITY_WARNING_DAYS = 180, 14
    soon, gone, fresh = AgentFactory(), AgentFactory(), AgentFactory()
    _unused_for(soon, 170)
    _unused_for(gone, 181)
    _unused_for(fresh, 10)
    assert services.lock_inactive_accounts() == (1, 1)
    (warning,) = mail.outbox
    assert warning.to == [soon.email] and "verrouillé" in warning.subject and "يقفل" in warning.subject
    assert services.lock_inactive_accounts() == (0, 0)  # warned once
    for user in (soon, gone, fresh):
        user.refresh_from_db()
    assert soon.is_active and not gone.is_active and gone.locked_for_inactivity_at and fresh.is_active
    assert AuditEvent.objects.filter(action="account.locked_for_inactivity", target_id=str(gone.pk)).exists()


def test_a_locked_account_is_told_why_only_with_its_right_password(client, settings):
    agent = AgentFactory()
    _unused_for(agent, settings.ACCOUNT_INACTIVITY_DAYS + 1)  # the daily task has not run yet
    page = client.post(reverse("login"), {"username": agent.username, "password": PASSWORD},
                       HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "verrouillé après 180 jours" in page and "_auth_user_id" not in client.session
    agent.refresh_from_db()
    assert not agent.is_active and agent.locked_for_inactivity_at
    wrong = client.post(reverse("login"), {"username": agent.username, "password": "wrong"},
                        HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "verrouillé" not in wrong and "Identifiant ou mot de passe incorrect" in wrong


def test_the_manager_unlocks_and_the_clock_restarts(client, settings):
    manager = ManagerFactory()
    agent = AgentFactory(created_by=manager)
    _unused_for(agent, settings.ACCOUNT_INACTIVITY_DAYS + 1)
    services.lock_inactive_accounts()
    client.force_login(manager)
    team = client.get(reverse("team"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "verrouillé" in team
    client.post(reverse("subaccount_toggle", args=[agent.pk]), {"active": "1"})
    agent.refresh_from_db()
    assert agent.is_active and agent.locked_for_inactivity_at is None and agent.reactivated_at
    assert log_in(type(client)(), agent.username)
    assert services.lock_inactive_accounts() == (0, 0)


def test_the_daily_task_is_scheduled(settings):
    assert settings.CELERY_BEAT_SCHEDULE["accounts-lock-inactive"]["task"] == "accounts.lock_inactive_accounts"
