"""A provincial office acts for one commune of its province at a time; every act says so."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Collectivity
from accounts.selectors import acting_collectivity, on_behalf_of
from tests.factories import ManagerFactory, ProvincialOfficeFactory, commune, other_commune

pytestmark = pytest.mark.django_db


def test_office_chooses_a_commune_of_its_province(client):
    office = ProvincialOfficeFactory()
    client.force_login(office)
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Choisissez la commune" in page
    listing = client.get(reverse("act_for")).content.decode()
    assert listing.count('name="collectivity"') == 12
    response = client.post(reverse("act_for"), {"collectivity": commune().pk}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="ar")
    assert "أنت تعمل نيابة عن" in response.content.decode()
    assert acting_collectivity(office, client.session) == commune()
    assert on_behalf_of(office, client.session) == commune()
    assert AuditEvent.objects.filter(action="provincial_office.acts_for", on_behalf_of=commune()).exists()


def test_a_commune_outside_the_province_is_404(client):
    office = ProvincialOfficeFactory()
    client.force_login(office)
    assert client.post(reverse("act_for"), {"collectivity": other_commune().pk}).status_code == 404
    province = Collectivity.objects.get(code="01.511")
    assert client.post(reverse("act_for"), {"collectivity": province.pk}).status_code == 404
    assert acting_collectivity(office, client.session) is None


def test_search_and_other_roles(client):
    office = ProvincialOfficeFactory()
    client.force_login(office)
    assert client.get(reverse("act_for") + "?q=Tanger").content.decode().count('name="collectivity"') == 1
    manager = ManagerFactory()
    client.force_login(manager)
    assert client.get(reverse("act_for")).status_code == 403
    assert acting_collectivity(manager, client.session) == manager.collectivity
    assert on_behalf_of(manager, client.session) is None
