"""A manager creates, limits and disables his collectivity's sub-accounts; nobody else can."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent, User
from tests.factories import AgentFactory, ManagerFactory, commune, log_in, other_commune

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = ManagerFactory()
    client.force_login(user)
    return user


NEW = {"full_name": "Salma Bennani", "cin": "ab 654321", "email": "S.Bennani@tanger.ma",
       "phone_mobile": "+212 6 61 23 45 67", "position": "Gestionnaire", "can_consult_affiliates": "on",
       "can_prepare_dossiers": "on"}


def test_manager_creates_a_sub_account_that_gets_an_activation_link(client, manager,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("subaccount_create"), NEW, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Compte créé pour Salma Bennani" in response.content.decode()
    agent = User.objects.get(cin="AB654321")
    assert agent.role == "agent" and agent.collectivity == manager.collectivity
    assert agent.username == "AB654321" and agent.email == "s.bennani@tanger.ma"
    assert agent.phone_mobile == "0661234567"
    assert (agent.can_consult_affiliates, agent.can_prepare_dossiers, agent.can_certify_dossiers) == (
        True, True, False)
    assert not agent.has_usable_password()
    assert mail.outbox[0].to == ["s.bennani@tanger.ma"]
    assert AuditEvent.objects.filter(action="subaccount.created", actor=manager).exists()
    assert "Salma Bennani" in client.get(reverse("team")).content.decode()


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("cin", "123", "n&#x27;est pas une CIN"),
    ("email", "pas-un-mail", "n&#x27;est pas une adresse e-mail valide"),
    ("phone_mobile", "0537000000", "n&#x27;est pas un numéro de mobile marocain"),
    ("full_name", "", "Ce champ est obligatoire"),
])
def test_bad_input_shows_its_error_and_creates_nothing(client, manager, field, value, expected):
    response = client.post(reverse("subaccount_create"), {**NEW, field: value}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not User.objects.filter(role="agent").exists()
    assert len(mail.outbox) == 0


def test_duplicate_cin_is_refused(client, manager):
    AgentFactory(cin="AB654321", username="AB654321")
    response = client.post(reverse("subaccount_create"), NEW, HTTP_ACCEPT_LANGUAGE="ar")
    assert "يوجد حساب برقم البطاقة الوطنية هذا" in response.content.decode()
    assert User.objects.filter(cin="AB654321").count() == 1


def test_manager_limits_then_disables_and_enables(client, manager):
    agent = AgentFactory(can_prepare_dossiers=True, can_certify_dossiers=True)
    client.post(reverse("subaccount_edit", args=[agent.pk]), {"can_consult_affiliates": "on", "position": "X"})
    agent.refresh_from_db()
    assert (agent.can_prepare_dossiers, agent.can_certify_dossiers) == (False, False)

    client.post(reverse("subaccount_toggle", args=[agent.pk]), {"active": "0", "confirmed": "1"})
    agent.refresh_from_db()
    assert not agent.is_active
    assert not log_in(None, agent.username)
    client.force_login(manager)
    client.post(reverse("subaccount_toggle", args=[agent.pk]), {"active": "1"})
    agent.refresh_from_db()
    assert agent.is_active
    actions = list(AuditEvent.objects.filter(target_id=str(agent.pk)).values_list("action", flat=True))
    assert set(actions) == {"subaccount.updated", "subaccount.disabled", "subaccount.enabled"}


def test_another_collectivitys_sub_account_is_404_and_untouched(client, manager):
    foreign = AgentFactory(collectivity=other_commune(), can_certify_dossiers=True)
    for url, data in [
        (reverse("subaccount_edit", args=[foreign.pk]), {"can_consult_affiliates": "on"}),
        (reverse("subaccount_toggle", args=[foreign.pk]), {"active": "0"}),
        (reverse("subaccount_toggle", args=[foreign.pk]), {"active": "0", "confirmed": "1"}),
        (reverse("subaccount_resend", args=[foreign.pk]), {}),
    ]:
        assert client.get(url).status_code in (404, 405)
        response = client.post(url, data)
        assert response.status_code == 404
        assert foreign.full_name not in response.content.decode()
    foreign.refresh_from_db()
    assert foreign.is_active and foreign.can_certify_dossiers
    assert foreign.full_name not in client.get(reverse("team")).content.decode()


def test_the_manager_of_another_collectivity_is_not_a_sub_account(client, manager):
    other_manager = ManagerFactory(collectivity=other_commune())
    assert client.post(reverse("subaccount_toggle", args=[other_manager.pk]), {"active": "0"}).status_code == 404
    colleague = ManagerFactory.build(collectivity=commune())
    assert colleague  # a second active manager of the same council is impossible (DB constraint)


def test_agents_cannot_administer_sub_accounts(client):
    agent = AgentFactory(can_certify_dossiers=True)
    other = AgentFactory()
    client.force_login(agent)
    assert client.get(reverse("team")).status_code == 403
    assert client.post(reverse("subaccount_create"), NEW).status_code == 403
    assert client.post(reverse("subaccount_toggle", args=[other.pk]), {"active": "0"}).status_code == 403
    other.refresh_from_db()
    assert other.is_active
    assert not User.objects.filter(cin="AB654321").exists()


def test_team_page_pagination_and_fixed_query_count(client, manager, django_assert_max_num_queries):
    AgentFactory.create_batch(30)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("team"))
    assert response.content.decode().count("subaccount_edit") == 0  # urls are rendered, not names
    assert "Page 1" in response.content.decode() or "الصفحة 1" in response.content.decode()
    with django_assert_max_num_queries(8):
        client.get(reverse("team") + "?page=2")


def test_only_one_active_manager_per_council():
    from django.db import IntegrityError, transaction

    ManagerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ManagerFactory()
