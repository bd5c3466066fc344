"""Factories for tests. Collectivities are the real ones (loaded once per test database)."""

import factory

from accounts.models import Collectivity, User
from signatures.testpki import OFFICERS

# The holders of the test PKI's certificates: an account with one of these CINs bears that name, as
# the certificate does (a signature counts only if the certificate's name matches the account's).
PKI_NAMES = {cin: name for _, name, cin, _ in OFFICERS}

PASSWORD = "a-Strong-test-password-2026"


def commune(code="01.511.01.0"):
    """Tanger by default; any HCP code of the loaded data otherwise."""
    return Collectivity.objects.get(code=code)


def other_commune():
    """A commune of another province (Fès), for scoping tests."""
    return Collectivity.objects.filter(kind="commune").exclude(province__code="01.511").order_by("code").last()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"T{n:06d}")
    cin = factory.SelfAttribute("username")
    full_name = factory.LazyAttribute(lambda o: PKI_NAMES.get(o.cin) or factory.Faker._get_faker("fr_FR").name())
    email = factory.Sequence(lambda n: f"user{n}@commune.test")
    role = User.Role.AGENT
    collectivity = factory.LazyFunction(commune)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ManagerFactory(UserFactory):
    role = User.Role.MANAGER
    can_prepare_dossiers = True
    can_certify_dossiers = True


class AgentFactory(UserFactory):
    role = User.Role.AGENT


class ProvincialOfficeFactory(UserFactory):
    role = User.Role.PROVINCIAL_OFFICE
    collectivity = factory.LazyFunction(lambda: Collectivity.objects.get(code="01.511"))


class CmrAgentFactory(UserFactory):
    role = User.Role.CMR_AGENT
    collectivity = None
    cin = None


class DgctAdminFactory(UserFactory):
    role = User.Role.DGCT_ADMIN
    collectivity = None
    cin = None
    is_staff = True


def log_in(client, username, password=PASSWORD, *, second_factor=True):
    """Log in through the real login form (django-axes needs the request); True if it worked. An account
    asked a second factor then types its application's code in the real form too (an application is
    enrolled for it if it has none), unless ``second_factor=False`` stops between the two steps."""
    from django.test import Client
    from django.urls import reverse

    client = client or Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    if not (response.status_code == 302 and "_auth_user_id" in client.session):
        return False
    if second_factor:
        from accounts import second_factor as rules
        from accounts.models import User
        from tests.otp import code_for, enrolled

        user = User.objects.get(pk=client.session["_auth_user_id"])
        if rules.is_needed(user):
            code = code_for(enrolled(user))
            answer = client.post(reverse("second_factor_verify"), {"code": code})
            return answer.status_code == 302 and "verify" not in answer.url
    return True


def api_client_for(user, *, scope="read_write", collectivity=None):
    """A DRF test client sending a new API token of ``user`` (read and write by default)."""
    from rest_framework.test import APIClient

    from accounts import api_tokens

    _token, key = api_tokens.issue(user, name="tests", scope=scope, collectivity=collectivity)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
