"""One-time, expiring activation links: no password ever travels by e-mail."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import ActivationLink, AuditEvent
from accounts.services import issue_activation_link
from tests.factories import ManagerFactory, log_in

pytestmark = pytest.mark.django_db
GOOD = "Rabat-retraite-2026!"


@pytest.fixture
def manager():
    user = ManagerFactory(username="BK111222", cin="BK111222", email="rh@tanger.ma")
    user.set_unusable_password()
    user.save()
    return user


def link_for(user, capture):
    """Queue the link e-mail and let the outbox send it (eager in tests); the token as the e-mail carries it."""
    with capture(execute=True):
        issue_activation_link(user)
    token = re.search(r"/activate/([\w-]+)/", mail.outbox[-1].body).group(1)
    return token, reverse("activate", args=[token])


def test_email_carries_a_link_and_no_password(manager, django_capture_on_commit_callbacks):
    token, url = link_for(manager, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert url in message.body
    assert "mot de passe" in message.body.lower() and GOOD not in message.body
    assert ActivationLink.objects.get().token_hash != token  # only the hash is stored


def test_link_sets_a_password_once(client, manager, django_capture_on_commit_callbacks):
    _token, url = link_for(manager, django_capture_on_commit_callbacks)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200 and "BK111222" in page.content.decode()
    response = client.post(url, {"password1": GOOD, "password2": GOOD}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Votre mot de passe est enregistré" in response.content.decode()
    manager.refresh_from_db()
    assert manager.check_password(GOOD)
    assert log_in(client, "BK111222", GOOD)
    assert AuditEvent.objects.filter(action="account.activated", target_id=str(manager.pk)).exists()

    client.logout()
    again = client.post(url, {"password1": "Other-pass-2026!", "password2": "Other-pass-2026!"},
                        HTTP_ACCEPT_LANGUAGE="fr")
    assert again.status_code == 410
    assert "Ce lien a déjà servi" in again.content.decode()
    manager.refresh_from_db()
    assert manager.check_password(GOOD)  # the reused link changed nothing


def test_expired_link_is_refused(client, manager, django_capture_on_commit_callbacks):
    _token, url = link_for(manager, django_capture_on_commit_callbacks)
    ActivationLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 410
    assert "انتهت صلاحية هذا الرابط" in response.content.decode()
    response = client.post(url, {"password1": GOOD, "password2": GOOD})
    assert response.status_code == 410
    manager.refresh_from_db()
    assert not manager.has_usable_password()


def test_unknown_link(client):
    response = client.get(reverse("activate", args=["not-a-real-token"]), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    assert "n&#x27;est pas valide" in response.content.decode()


def test_a_new_link_voids_the_previous_one(client, manager, django_capture_on_commit_callbacks):
    _old, old_url = link_for(manager, django_capture_on_commit_callbacks)
    _new, new_url = link_for(manager, django_capture_on_commit_callbacks)
    assert client.get(old_url).status_code == 410
    assert client.get(new_url).status_code == 200


@pytest.mark.parametrize(("password", "expected"), [
    ("short", "trop court"),
    ("password123", "trop courant"),
    ("12345678901234", "entièrement numérique"),
    ("bk111222-rh", "trop semblable"),
])
def test_weak_passwords_are_refused_by_django_validators(client, manager, django_capture_on_commit_callbacks,
                                                          password, expected):
    _token, url = link_for(manager, django_capture_on_commit_callbacks)
    response = client.post(url, {"password1": password, "password2": password}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert expected in response.content.decode()
    manager.refresh_from_db()
    assert not manager.has_usable_password()
    assert ActivationLink.objects.get().used_at is None  # the link is still usable


def test_mismatched_confirmation(client, manager, django_capture_on_commit_callbacks):
    _token, url = link_for(manager, django_capture_on_commit_callbacks)
    response = client.post(url, {"password1": GOOD, "password2": GOOD + "x"}, HTTP_ACCEPT_LANGUAGE="ar")
    assert "كلمتا المرور غير متطابقتين" in response.content.decode()


def test_disabled_account_cannot_activate(client, manager, django_capture_on_commit_callbacks):
    _token, url = link_for(manager, django_capture_on_commit_callbacks)
    manager.is_active = False
    manager.save()
    assert client.get(url).status_code == 404
