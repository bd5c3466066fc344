"""The DGCT's Django admin: accounts, collectivities and the audit log."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, User
from accounts.services import record_audit
from tests.factories import DgctAdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(DgctAdminFactory(is_superuser=True))
    return client


def test_dgct_creates_a_cmr_agent_account(admin_client):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "username": "cmr.agent", "role": "cmr_agent", "full_name": "Agent CMR", "email": "agent@cmr.ma",
        "password1": "Un-mot-de-passe-2026", "password2": "Un-mot-de-passe-2026",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="cmr.agent")
    assert user.role == "cmr_agent" and user.collectivity is None
    assert AuditEvent.objects.filter(action="account.created", target_id=str(user.pk)).exists()


def test_audit_log_lists_acts_and_is_read_only(admin_client):
    manager = ManagerFactory()
    record_audit("subaccount.created", actor=manager, target=manager, collectivity=manager.collectivity)
    page = admin_client.get(reverse("admin:accounts_auditevent_changelist")).content.decode()
    assert "subaccount.created" in page and str(manager) in page
    assert admin_client.get(reverse("admin:accounts_auditevent_add")).status_code == 403


@pytest.mark.parametrize("name", ["accounts_collectivity", "accounts_user", "accounts_designationimport"])
def test_admin_lists_render(admin_client, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist") + "?q=Tanger")
    assert response.status_code == 200


def test_collectivity_accounts_are_kept_out_of_the_admin(client):
    client.force_login(ManagerFactory())
    assert client.get(reverse("admin:index")).status_code == 302
