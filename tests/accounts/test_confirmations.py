"""A manager's and the DGCT's acts that cut an account off ask for confirmation first: posted unconfirmed
they change nothing and say what would happen; confirmed, they are done. The team page with no sub-account
says how to make one. In French and in Arabic."""

import html
import re

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import api_tokens
from accounts.models import ApiToken, AuditEvent
from tests.factories import AgentFactory, DgctAdminFactory, ManagerFactory
from tests.otp import enrolled

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """A page's words, tags and bidi isolation marks (around names) dropped, spaces squeezed."""
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))
    return words.translate(dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069")))


@pytest.fixture
def manager(client):
    user = ManagerFactory()
    client.force_login(user)
    return user


def test_disabling_a_sub_account_asks_first(client, manager):
    agent = AgentFactory(full_name="Salma Bennani", can_prepare_dossiers=True, position="Gestionnaire")
    url = reverse("subaccount_toggle", args=[agent.pk])
    for language, words in [("fr", ["Désactiver le compte de Salma Bennani ?", "ne peut plus se connecter",
                                    "Oui, désactiver le compte", "préparer les dossiers", "Gestionnaire"]),
                            ("ar", ["هل تريدون تعطيل حساب Salma Bennani؟", "لا يمكن لـ Salma Bennani تسجيل الدخول",
                                    "نعم، عطلوا الحساب", "إعداد الملفات"])]:
        response = client.post(url, {"active": "0"}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200 and 'data-testid="confirmation"' in response.content.decode()
        page = text(response)
        assert all(w in page for w in words), (language, page)
        assert 'name="active" value="0"' in response.content.decode()  # the Confirm button posts it again
    agent.refresh_from_db()
    assert agent.is_active and not AuditEvent.objects.filter(action="subaccount.disabled").exists()

    response = client.post(url, {"active": "0", "confirmed": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
    agent.refresh_from_db()
    assert not agent.is_active and AuditEvent.objects.filter(action="subaccount.disabled").exists()
    assert "Salma Bennani" in text(response)
    # enabling it again engages nothing: done at once
    client.post(url, {"active": "1"})
    agent.refresh_from_db()
    assert agent.is_active


def test_resetting_a_sub_account_asks_first(client, manager, django_capture_on_commit_callbacks):
    agent = AgentFactory(full_name="Salma Bennani", email="salma@tanger.ma", can_certify_dossiers=True)
    enrolled(agent)
    url = reverse("subaccount_reset", args=[agent.pk])
    response = client.post(url, HTTP_ACCEPT_LANGUAGE="fr")
    page = text(response)
    assert "Réinitialiser le compte de Salma Bennani ?" in page and "salma@tanger.ma" in page
    assert "cessent aussitôt de fonctionner" in page
    assert "إعادة تعيين حساب Salma Bennani" in text(client.post(url, HTTP_ACCEPT_LANGUAGE="ar"))
    agent.refresh_from_db()
    assert agent.has_usable_password() and TOTPDevice.objects.filter(user=agent).exists() and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"confirmed": "1"})
    agent.refresh_from_db()
    assert not agent.has_usable_password() and not TOTPDevice.objects.filter(user=agent).exists()
    assert len(mail.outbox) == 1


def test_the_admin_reset_asks_naming_each_account(client, django_capture_on_commit_callbacks):
    admin = DgctAdminFactory(is_superuser=True)
    officer = ManagerFactory(full_name="Amina El Idrissi", email="amina@tanger.ma")
    enrolled(officer)
    client.force_login(admin)
    data = {"action": "reset_accounts", "_selected_action": [officer.pk]}
    response = client.post("/admin/accounts/user/", data, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    page = text(response)
    assert "Réinitialiser les comptes sélectionnés ?" in page and "Amina El Idrissi" in page
    body = response.content.decode()
    assert "amina@tanger.ma" in page and 'value="Oui, réinitialiser les comptes"' in body
    assert f'name="_selected_action" value="{officer.pk}"' in body and 'name="confirmed" value="1"' in body
    assert "هل تريدون إعادة تعيين الحسابات المحددة؟" in text(
        client.post("/admin/accounts/user/", data, HTTP_ACCEPT_LANGUAGE="ar"))
    officer.refresh_from_db()
    assert officer.has_usable_password() and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/accounts/user/", {**data, "confirmed": "1"})
    assert response.status_code == 302
    officer.refresh_from_db()
    assert not officer.has_usable_password() and len(mail.outbox) == 1


def test_the_admin_revocation_of_tokens_asks_first(client):
    admin = DgctAdminFactory(is_superuser=True)
    token, _key = api_tokens.issue(ManagerFactory(), name="INDIMAJ")
    client.force_login(admin)
    data = {"action": "revoke_tokens", "_selected_action": [token.pk]}
    page = text(client.post("/admin/accounts/apitoken/", data, HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Révoquer les jetons d'API sélectionnés ?" in page and "INDIMAJ" in page
    assert "ne peut pas être rétabli" in page
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    client.post("/admin/accounts/apitoken/", {**data, "confirmed": "1"})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_an_empty_team_says_how_to_make_a_sub_account(client, manager):
    for language, words in [("fr", "Aucun sous-compte pour l'instant. Créez-en un avec « Nouveau sous-compte »"),
                            ("ar", "لا يوجد أي حساب فرعي بعد. أنشئوا حسابا عبر «حساب فرعي جديد»")]:
        assert words in text(client.get(reverse("team"), HTTP_ACCEPT_LANGUAGE=language))
