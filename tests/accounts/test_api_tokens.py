"""API tokens: hashed at rest and shown once, named, read-only or read-write, narrowed to one
collectivity, expiring, revocable, listed with their last use, made on a page and by the command,
throttled per token, their use counting as the account's activity."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import api_tokens, services
from accounts.models import ApiToken, AuditEvent, Collectivity, User
from tests.affiliates.factories import AffiliateFactory
from tests.factories import (
    AgentFactory,
    CmrAgentFactory,
    ManagerFactory,
    ProvincialOfficeFactory,
    other_commune,
)

pytestmark = pytest.mark.django_db


def client_with(key, **extra):
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def search(client, q="AB12345"):
    return client.get("/api/v1/affiliates/", {"q": q}, HTTP_ACCEPT_LANGUAGE="fr")


def test_the_key_is_stored_only_as_its_hash():
    manager = ManagerFactory()
    token, key = api_tokens.issue(manager, name="SIRH")
    assert key.startswith("ert_") and len(key) >= 44
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(list(ApiToken.objects.values_list()))  # no column holds it
    assert stored.prefix == key[:12] and stored.collectivity_id == manager.collectivity_id
    assert stored.expires_at - timezone.now() > timedelta(days=364)
    event = AuditEvent.objects.get(action="api.token_created", target_id=str(manager.pk))
    assert key not in str(event.data) and event.data["name"] == "SIRH"


def test_bearer_and_token_keywords_both_work():
    manager = ManagerFactory()
    _token, key = api_tokens.issue(manager, name="SIRH")
    assert search(client_with(key)).status_code == 200
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert search(bearer).status_code == 200


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token ert_nope", "Token " + "0" * 40, "Bearer é"])
def test_a_bad_header_is_a_401_with_a_message(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    answer = search(client)
    assert answer.status_code == 401 and answer.json()["detail"]
    assert answer["WWW-Authenticate"] == "Token"


def test_a_read_only_token_reads_and_writes_nothing():
    manager = ManagerFactory()
    affiliate = AffiliateFactory()
    _token, key = api_tokens.issue(manager, name="reader")
    client = client_with(key)
    assert search(client, affiliate.affiliation_number).status_code == 200
    answer = client.post("/api/v1/dossiers/", {"affiliate": affiliate.pk, "kind": "age_limit"},
                         format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 403 and "lecture seule" in answer.json()["detail"]
    from dossiers.models import Dossier

    assert not Dossier.objects.exists()
    # the same account, with a read-write token, may
    _token, writer = api_tokens.issue(manager, name="writer", scope=ApiToken.Scope.READ_WRITE)
    answer = client_with(writer).post("/api/v1/dossiers/", {"affiliate": affiliate.pk,
                                                             "kind": "age_limit"}, format="json")
    assert answer.status_code not in (401, 403), answer.content  # past the token: the rules decide


def test_a_token_never_holds_more_than_its_account():
    agent = AgentFactory(can_consult_affiliates=True, can_prepare_dossiers=False)
    affiliate = AffiliateFactory()
    _token, key = api_tokens.issue(agent, name="x", scope=ApiToken.Scope.READ_WRITE)
    answer = client_with(key).post("/api/v1/dossiers/", {"affiliate": affiliate.pk, "kind": "age_limit"},
                                   format="json")
    assert answer.status_code in (403, 404)  # dossiers do not exist for an account that may not see them
    from dossiers.models import Dossier

    assert not Dossier.objects.exists()


def test_a_provincial_office_token_for_one_commune_sees_that_commune_only():
    office = ProvincialOfficeFactory()
    tanger = Collectivity.objects.get(code="01.511.01.0")
    other = Collectivity.objects.filter(province=office.collectivity, kind="commune").exclude(pk=tanger.pk).first()
    here, there = AffiliateFactory(collectivity=tanger), AffiliateFactory(collectivity=other)
    _token, narrow = api_tokens.issue(office, name="Tanger only", collectivity=tanger)
    _token, wide = api_tokens.issue(office, name="all")
    narrow_client, wide_client = client_with(narrow), client_with(wide)
    assert narrow_client.get(f"/api/v1/affiliates/{here.pk}/").status_code == 200
    assert narrow_client.get(f"/api/v1/affiliates/{there.pk}/").status_code == 404
    assert search(narrow_client, there.affiliation_number).json()["count"] == 0
    assert wide_client.get(f"/api/v1/affiliates/{there.pk}/").status_code == 200
    # a collectivity outside its scope is refused when making the token
    with pytest.raises(ValidationError):
        api_tokens.issue(office, name="x", collectivity=other_commune())


def test_a_manager_token_is_for_his_collectivity_whatever_is_asked():
    manager = ManagerFactory()
    with pytest.raises(ValidationError) as refused:
        api_tokens.issue(manager, name="x", collectivity=other_commune())
    assert "collectivity" in refused.value.message_dict
    token, _key = api_tokens.issue(manager, name="x")
    assert token.collectivity_id == manager.collectivity_id


@pytest.mark.parametrize("kwargs, field", [
    ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": "x" * 101}, "name"),
    ({"name": "x", "scope": "admin"}, "scope"), ({"name": "x", "days": 0}, "days"),
    ({"name": "x", "days": 366}, "days"), ({"name": "x", "days": -5}, "days"),
])
def test_bad_requests_for_a_token_are_refused(kwargs, field):
    with pytest.raises(ValidationError) as refused:
        api_tokens.issue(ManagerFactory(), **kwargs)
    assert field in refused.value.message_dict
    assert not ApiToken.objects.exists()


def test_a_disabled_account_gets_no_token():
    with pytest.raises(ValidationError):
        api_tokens.issue(ManagerFactory(is_active=False), name="x")


def test_a_token_of_an_account_with_no_capability_reads_nothing():
    _token, key = api_tokens.issue(AgentFactory(can_consult_affiliates=False), name="x")
    assert search(client_with(key)).status_code == 403
    assert client_with(key).get("/api/v1/dossiers/").status_code in (403, 404)


def test_expired_revoked_and_disabled_are_refused_with_why():
    manager = ManagerFactory()
    expired, expired_key = api_tokens.issue(manager, name="old", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = search(client_with(expired_key))
    assert answer.status_code == 401 and "expiré" in answer.json()["detail"]
    revoked, revoked_key = api_tokens.issue(manager, name="gone")
    api_tokens.revoke(manager, revoked.pk)
    assert "révoqué" in search(client_with(revoked_key)).json()["detail"]
    _token, key = api_tokens.issue(manager, name="live")
    manager.is_active = False
    manager.save()
    assert search(client_with(key)).status_code == 401
    assert AuditEvent.objects.filter(action="api.token_revoked", target_id=str(manager.pk)).count() == 1


def test_last_use_is_kept_and_counts_as_activity(settings):
    manager = ManagerFactory()
    token, key = api_tokens.issue(manager, name="SIRH")
    assert search(client_with(key, REMOTE_ADDR="10.1.2.3")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_ip == "10.1.2.3"
    # an account used only through its token is not locked for inactivity
    long_ago = timezone.now() - timedelta(days=settings.ACCOUNT_INACTIVITY_DAYS + 30)
    User.objects.filter(pk=manager.pk).update(last_login=long_ago, date_joined=long_ago)
    assert services.lock_inactive_accounts() == (0, 0)
    manager.refresh_from_db()
    assert manager.is_active


def test_each_token_has_its_own_rate(monkeypatch):
    monkeypatch.setattr(api_tokens.PerTokenThrottle, "rate", "3/min", raising=False)
    monkeypatch.setattr(api_tokens.PerTokenThrottle, "timer", staticmethod(lambda: 6_000_030.0))  # mid-minute
    cache.clear()
    manager = ManagerFactory()
    _t, first = api_tokens.issue(manager, name="one")
    _t, second = api_tokens.issue(manager, name="two")
    answers = [search(client_with(first)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = search(client_with(first))
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 30 and refused.json()["detail"]
    assert search(client_with(second)).status_code == 200  # another token keeps its own count
    # a person's session is not throttled
    from django.test import Client

    browser = Client()
    browser.force_login(manager)
    assert all(browser.get("/api/v1/affiliates/", {"q": "AB12345"}).status_code == 200 for _ in range(5))
    cache.clear()


def test_the_page_makes_shows_once_lists_and_revokes(client):
    manager = ManagerFactory()
    client.force_login(manager)
    page = client.get(reverse("api_tokens"), HTTP_ACCEPT_LANGUAGE="ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.content.decode()
    made = client.post(reverse("api_tokens"), {"name": "SIRH de la commune", "scope": "read", "days": "30"},
                       HTTP_ACCEPT_LANGUAGE="fr", follow=True)
    assert made.redirect_chain  # reloading the page that shows the key makes no second token
    html = made.content.decode()
    key = re.search(r'data-testid="key">(ert_[\w-]+)<', html).group(1)
    assert made["Cache-Control"] == "no-store" and "SIRH de la commune" in html
    assert search(client_with(key)).status_code == 200
    again = client.get(reverse("api_tokens")).content.decode()
    assert key not in again and key[:12] in again  # listed by its beginning, never shown again
    token = ApiToken.objects.get(user=manager)
    assert 29 <= (token.expires_at - timezone.now()).days <= 30
    client.post(reverse("api_token_revoke", args=[token.pk]))
    assert search(client_with(key)).status_code == 401
    # someone else's token is not his to revoke
    stranger_token, stranger_key = api_tokens.issue(ManagerFactory(collectivity=other_commune()), name="x")
    assert client.post(reverse("api_token_revoke", args=[stranger_token.pk])).status_code == 404
    assert search(client_with(stranger_key)).status_code == 200


@pytest.mark.parametrize("data", [
    {"name": "", "scope": "read", "days": "30"}, {"name": "x", "scope": "root", "days": "30"},
    {"name": "x", "scope": "read", "days": "0"}, {"name": "x", "scope": "read", "days": "9999"},
    {"name": "x", "scope": "read", "days": "abc"}, {"name": "x" * 300, "scope": "read", "days": "30"},
])
def test_the_page_refuses_bad_input_in_the_users_language(client, data):
    client.force_login(ManagerFactory())
    answer = client.post(reverse("api_tokens"), data, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200 and "invalid-feedback" in answer.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_offers_a_provincial_office_its_communes():
    from django.test import Client

    office = ProvincialOfficeFactory()
    client = Client()
    client.force_login(office)
    page = client.get(reverse("api_tokens"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'name="collectivity"' in page and "Tanger" in page
    stranger = other_commune()
    answer = client.post(reverse("api_tokens"), {"name": "x", "scope": "read", "days": "30",
                                                 "collectivity": stranger.pk})
    assert answer.status_code == 200 and not ApiToken.objects.exists()


def test_the_command_makes_and_revokes():
    cmr = CmrAgentFactory()
    out = StringIO()
    call_command("create_api_token", cmr.username, "--scope", "read", "--collectivity", "01.511.01.0", stdout=out)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=cmr)
    assert token.read_only and token.collectivity.code == "01.511.01.0"
    assert search(client_with(key)).status_code == 200
    call_command("revoke_api_token", cmr.username, token.prefix, stdout=StringIO())
    assert search(client_with(key)).status_code == 401
    with pytest.raises(CommandError):
        call_command("create_api_token", cmr.username, "--collectivity", "nope")
    with pytest.raises(CommandError):
        call_command("create_api_token", cmr.username, "--days", "400")


def test_old_clear_tokens_are_hashed_by_the_migration():
    """What the migration does with a key DRF's authtoken stored in clear."""
    import importlib

    from django.db import connection

    migration = importlib.import_module("accounts.migrations.0003_api_tokens")
    manager = ManagerFactory()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE authtoken_token (key varchar(40), user_id bigint, created timestamptz)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, now())", ["a" * 40, manager.pk])

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    from django.apps import apps

    original = connection.introspection.table_names

    def names(*args, **kwargs):
        return [*original(*args, **kwargs), "authtoken_token"]

    connection.introspection.table_names = names
    try:
        migration.keep_the_old_tokens(apps, editor)
    finally:
        connection.introspection.table_names = original
    assert search(client_with("a" * 40)).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
