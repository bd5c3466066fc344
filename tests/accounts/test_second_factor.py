"""The second factor: who is asked, enrolment, codes, recovery codes, trusted browsers, throttling,
and that the password alone reaches nothing (no page, no API, no way to replace the application)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from accounts.models import AuditEvent, TrustedBrowser
from accounts.services import secret_hash
from tests.factories import (
    PASSWORD,
    AgentFactory,
    CmrAgentFactory,
    DgctAdminFactory,
    ManagerFactory,
    ProvincialOfficeFactory,
    log_in,
    other_commune,
)
from tests.otp import code_for, code_from_secret, enrolled

pytestmark = pytest.mark.django_db


def _actions(user):
    return list(AuditEvent.objects.filter(target_id=str(user.pk), action__startswith="second_factor.")
                .order_by("at", "pk").values_list("action", flat=True))


def _enrol_through_the_page(client, user):
    page = client.get(reverse("second_factor_setup"))
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    answer = client.post(reverse("second_factor_setup"), {"code": code_from_secret(secret)})
    codes = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", answer.content.decode())
    return secret, codes


@pytest.mark.parametrize("factory, asked", [
    (ManagerFactory, True), (ProvincialOfficeFactory, True), (CmrAgentFactory, True), (DgctAdminFactory, True),
    (lambda: AgentFactory(can_certify_dossiers=True), True), (lambda: AgentFactory(can_prepare_dossiers=True), False),
])
def test_who_is_asked_a_second_factor(factory, asked):
    assert second_factor.is_needed(factory()) is asked


def test_the_password_alone_reaches_nothing_until_the_application_is_enrolled(client):
    manager = ManagerFactory()
    assert log_in(client, manager.username, second_factor=False)
    for url in (reverse("home"), reverse("dossiers:list"), reverse("affiliates:search"), reverse("team"),
                reverse("security"), reverse("password_change"), "/admin/"):
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith(reverse("second_factor_setup")), url
    api = client.get("/api/v1/dossiers/", HTTP_ACCEPT_LANGUAGE="fr")
    assert api.status_code == 403 and "second facteur" in api.json()["detail"]
    # the setup page shows the key, as a QR code (inline SVG) and as text, and no navigation
    page = client.get(reverse("second_factor_setup"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "<svg" in page and 'data-testid="secret"' in page and 'dir="rtl"' in page
    assert reverse("dossiers:list") not in page
    # a wrong code is refused; the right one enrols, shows ten recovery codes once, and lets in
    assert "pas celui" in client.post(reverse("second_factor_setup"), {"code": "000000"},
                                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    _secret, codes = _enrol_through_the_page(client, manager)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/api/v1/dossiers/").status_code == 200
    assert _actions(manager) == ["second_factor.enrolment_failed", "second_factor.enrolled"]
    assert TOTPDevice.objects.get(user=manager).confirmed


def test_login_asks_the_code_and_refuses_a_wrong_or_replayed_one(client):
    manager = ManagerFactory()
    device = enrolled(manager)
    assert log_in(client, manager.username, second_factor=False)
    assert client.get(reverse("home"))["Location"].startswith(reverse("second_factor_verify"))
    wrong = client.post(reverse("second_factor_verify"), {"code": "123456"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert wrong.status_code == 200 and "pas valide" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_timestamp = None  # the throttling is test_throttling's
    device.save()
    code = code_for(device)
    answer = client.post(reverse("second_factor_verify") + "?next=/dossiers/", {"code": code, "next": "/dossiers/"})
    assert answer.status_code == 302 and answer["Location"] == "/dossiers/"
    assert client.get(reverse("home")).status_code == 200
    # the same code, from another session, is spent
    other = type(client)()
    assert log_in(other, manager.username, second_factor=False)
    assert "pas valide" in other.post(reverse("second_factor_verify"), {"code": code},
                                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert other.get(reverse("home")).status_code == 302
    assert _actions(manager) == ["second_factor.failed", "second_factor.passed", "second_factor.failed"]


def test_codes_are_read_however_they_are_typed(client):
    manager = ManagerFactory()
    device = enrolled(manager)
    assert log_in(client, manager.username, second_factor=False)
    code = code_for(device)
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in code)
    answer = client.post(reverse("second_factor_verify"), {"code": f" {arabic[:3]} {arabic[3:]} "})
    assert answer.status_code == 302


def test_a_recovery_code_lets_in_once(client):
    manager = ManagerFactory()
    assert log_in(client, manager.username, second_factor=False)
    _secret, codes = _enrol_through_the_page(client, manager)
    client.logout()
    assert log_in(client, manager.username, second_factor=False)
    answer = client.post(reverse("second_factor_verify"), {"code": codes[3].upper()}, follow=True,
                         HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.redirect_chain and "9 restent" in answer.content.decode()
    assert StaticToken.objects.filter(device__user=manager).count() == 9
    client.logout()
    assert log_in(client, manager.username, second_factor=False)
    assert client.post(reverse("second_factor_verify"), {"code": codes[3]}).status_code == 200  # spent
    assert "second_factor.recovery_code_used" in _actions(manager)


def test_renewed_recovery_codes_replace_the_old_ones(client):
    manager = ManagerFactory()
    client.force_login(manager)
    StaticToken.objects.filter(device__user=manager).delete()
    old = second_factor.renew_recovery_codes(manager)
    page = client.post(reverse("recovery_codes_renew")).content.decode()
    new = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert second_factor.recovery_codes_left(manager) == 10


def test_the_password_alone_cannot_replace_an_enrolled_application(client):
    manager = ManagerFactory()
    device = enrolled(manager)
    assert log_in(client, manager.username, second_factor=False)
    answer = client.get(reverse("second_factor_setup"))
    assert answer.status_code == 302 and answer["Location"] == reverse("second_factor_verify")
    client.post(reverse("second_factor_setup"), {"code": "123456"})
    assert list(TOTPDevice.objects.filter(user=manager)) == [device]
    assert client.post(reverse("recovery_codes_renew")).status_code in (302, 403)


def test_a_trusted_browser_is_not_asked_again_until_revoked_or_expired(client):
    manager = ManagerFactory()
    device = enrolled(manager)
    assert log_in(client, manager.username, second_factor=False)
    answer = client.post(reverse("second_factor_verify"), {"code": code_for(device), "trust": "on"})
    cookie = answer.cookies[second_factor.TRUST_COOKIE]
    assert cookie["httponly"] and int(cookie["max-age"]) == 30 * 86400
    browser = TrustedBrowser.objects.get(user=manager)
    assert cookie.value.split(":")[1] not in browser.token_hash  # only a hash is stored

    def again(account):  # log out (the test client then forgets its cookies), keep the browser's cookie
        client.logout()
        client.cookies[second_factor.TRUST_COOKIE] = cookie.value
        assert log_in(client, account.username, second_factor=False)
        return client.get(reverse("home")).status_code

    assert again(manager) == 200  # not asked
    browser.refresh_from_db()
    assert browser.last_used_at is not None
    # another account's session does not pass with this cookie
    other = ManagerFactory(collectivity=other_commune())
    enrolled(other)
    assert again(other) == 302
    # revoked: asked again
    client.logout()
    client.force_login(manager)
    client.post(reverse("trusted_browser_revoke", args=[browser.pk]))
    assert not TrustedBrowser.objects.filter(pk=browser.pk).exists()
    assert again(manager) == 302
    # expired: asked again
    TrustedBrowser.objects.create(user=manager, token_hash=secret_hash("t"), expires_at=timezone.now())
    client.cookies[second_factor.TRUST_COOKIE] = f"{manager.pk}:t"
    assert client.get(reverse("home")).status_code == 302


def test_throttling_after_wrong_codes(client):
    manager = ManagerFactory()
    device = enrolled(manager)
    assert log_in(client, manager.username, second_factor=False)
    for _ in range(3):
        client.post(reverse("second_factor_verify"), {"code": "000000"})
    page = client.post(reverse("second_factor_verify"), {"code": code_for(device)}, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200 and 'data-testid="throttled"' in page.content.decode()  # even the right code
    assert client.get(reverse("home")).status_code == 302


def test_an_agent_without_certification_is_not_asked_but_may_enrol(client):
    agent = AgentFactory(can_prepare_dossiers=True)
    assert log_in(client, agent.username, second_factor=False)
    assert client.get(reverse("home")).status_code == 200
    _enrol_through_the_page(client, agent)
    client.logout()
    assert log_in(client, agent.username, second_factor=False)
    assert client.get(reverse("home"))["Location"].startswith(reverse("second_factor_verify"))  # enrolled: asked


def test_the_admin_asks_it_too(client):
    admin = DgctAdminFactory(is_superuser=True)
    enrolled(admin)
    answer = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD,
                                           "next": "/admin/"})
    assert answer.status_code == 302
    assert client.get("/admin/")["Location"].startswith(reverse("second_factor_verify"))


def test_a_manager_resets_a_sub_accounts_password_and_second_factor(client, django_capture_on_commit_callbacks):
    manager = ManagerFactory()
    agent = AgentFactory(can_certify_dossiers=True, created_by=manager)
    enrolled(agent)
    agent_session = type(client)()
    agent_session.force_login(agent)
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("subaccount_reset", args=[agent.pk]), {"confirmed": "1"}, follow=True,
                             HTTP_ACCEPT_LANGUAGE="fr")
    assert agent.email in answer.content.decode()
    agent.refresh_from_db()
    assert not agent.has_usable_password() and not TOTPDevice.objects.filter(user=agent).exists()
    assert agent_session.get(reverse("home")).status_code == 302  # its session ended
    (message,) = mail.outbox
    assert "nouveau mot de passe" in message.subject and "كلمة مرور جديدة" in message.subject
    assert AuditEvent.objects.filter(action="account.reset", target_id=str(agent.pk), actor=manager).exists()
    # another collectivity's agent is not his to reset
    stranger = AgentFactory(collectivity=other_commune())
    assert client.post(reverse("subaccount_reset", args=[stranger.pk])).status_code == 404
    assert stranger.has_usable_password()


def test_only_a_manager_resets(client):
    agent = AgentFactory()
    other = AgentFactory()
    client.force_login(agent)
    assert client.post(reverse("subaccount_reset", args=[other.pk])).status_code == 403


def test_reset_by_the_dgct_from_the_admin(client, django_capture_on_commit_callbacks):
    admin = DgctAdminFactory(is_superuser=True)
    manager = ManagerFactory()
    enrolled(manager)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/accounts/user/", {"action": "reset_accounts", "_selected_action": [manager.pk],
                                              "confirmed": "1"})
    manager.refresh_from_db()
    assert not manager.has_usable_password() and not TOTPDevice.objects.filter(user=manager).exists()
    assert len(mail.outbox) == 1


def test_the_session_between_the_two_steps_is_told_where_it_is(client):
    manager = ManagerFactory()
    enrolled(manager)
    assert log_in(client, manager.username, second_factor=False)
    page = client.get(reverse("second_factor_verify"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in page and "العامل الثاني" in page and 'dir="ltr"' in page
    assert 'data-testid="security-link"' not in page


def test_the_security_page_lists_the_trusted_browsers(client):
    manager = ManagerFactory()
    client.force_login(manager)
    TrustedBrowser.objects.create(user=manager, token_hash="x" * 64, label="Firefox",
                                  expires_at=timezone.now() + timedelta(days=3))
    page = client.get(reverse("security"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Firefox" in page and 'data-testid="trusted-browsers"' in page
