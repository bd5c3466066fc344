"""Login safety: lock-out after repeated failures; the page in both languages."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, ManagerFactory, log_in

pytestmark = pytest.mark.django_db


def test_demo_style_login_works_and_shows_role_and_collectivity(client):
    manager = ManagerFactory(full_name="Karim El Idrissi")
    assert log_in(client, manager.username)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Karim El Idrissi" in page
    assert "Responsable de la collectivité" in page and "Conseil communal — Tanger" in page
    assert reverse("team") in page  # managers see the Team entry


def test_wrong_password_is_refused_with_a_message(client):
    manager = ManagerFactory()
    response = client.post(reverse("login"), {"username": manager.username, "password": "wrong"},
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in response.content.decode()


def test_lockout_after_repeated_failures_even_with_the_right_password(client, settings):
    manager = ManagerFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": manager.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": manager.username, "password": PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 429
    assert "محاولات دخول فاشلة كثيرة" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_pages_require_login(client):
    for name in ("home", "team"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
