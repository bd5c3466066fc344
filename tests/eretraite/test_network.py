"""The client's address: X-Forwarded-For is believed only through the configured trusted proxies."""

import pytest
from django.test import RequestFactory

from eretraite.network import client_ip


@pytest.mark.parametrize("peer, forwarded, trusted, expected", [
    ("203.0.113.9", "", [], "203.0.113.9"),
    ("203.0.113.9", "1.2.3.4", [], "203.0.113.9"),  # an untrusted peer's header is ignored
    ("10.0.0.2", "198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),  # what the client wrote is left of it
    ("10.0.0.2", "198.51.100.7, 10.0.0.5", ["10.0.0.0/8"], "198.51.100.7"),  # two proxies of ours
    ("10.0.0.2", "garbage, 198.51.100.7", ["10.0.0.0/8"], "198.51.100.7"),
    ("10.0.0.2", "198.51.100.7, garbage", ["10.0.0.0/8"], "10.0.0.2"),  # not a proxy's writing: stop there
    ("10.0.0.2", "", ["10.0.0.2"], "10.0.0.2"),
    ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ("", "1.2.3.4", ["10.0.0.0/8"], None),
])
def test_client_ip(settings, peer, forwarded, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_the_audit_trail_and_lock_out_use_it(client, settings):
    from axes.helpers import get_client_ip_address
    from django.urls import reverse

    from accounts.models import AuditEvent
    from tests.factories import AgentFactory, ManagerFactory

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    manager = ManagerFactory()
    agent = AgentFactory(created_by=manager)
    client.force_login(manager)
    client.post(reverse("subaccount_toggle", args=[agent.pk]), {"active": "0", "confirmed": "1"},
                REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    event = AuditEvent.objects.get(action="subaccount.disabled")
    assert event.ip == "198.51.100.7"
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert get_client_ip_address(request) == "198.51.100.7"
