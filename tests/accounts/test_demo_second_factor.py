"""`make run`'s demo accounts pass the second factor with the printed key or `manage.py demo_code`."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.management.commands.load_demo import _enrol_demo_application
from tests.factories import ManagerFactory, log_in

pytestmark = pytest.mark.django_db


def test_the_printed_code_lets_a_demo_account_in(client):
    manager = ManagerFactory()
    _enrol_demo_application(manager)
    _enrol_demo_application(manager)  # loading the demo twice keeps one application
    assert manager.totpdevice_set.count() == 1
    assert log_in(client, manager.username, second_factor=False)
    out = io.StringIO()
    call_command("demo_code", stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    assert client.post(reverse("second_factor_verify"), {"code": code}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_no_code_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("demo_code", stdout=io.StringIO())
