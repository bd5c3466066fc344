import pytest

from accounts.models import Collectivity
from accounts.selectors import visible_collectivities
from tests.factories import (
    AgentFactory,
    CmrAgentFactory,
    DgctAdminFactory,
    ManagerFactory,
    ProvincialOfficeFactory,
    commune,
    other_commune,
)

pytestmark = pytest.mark.django_db


def test_real_hierarchy_is_loaded():
    assert Collectivity.objects.filter(kind="region").count() == 12
    assert Collectivity.objects.filter(kind="province").count() == 75
    assert Collectivity.objects.filter(kind="commune").count() == 1503
    tanger = commune()
    assert tanger.name_ar == "طنجة"
    assert tanger.province.code == "01.511"
    assert tanger.region.code == "01"


@pytest.mark.parametrize("factory", [ManagerFactory, AgentFactory])
def test_collectivity_accounts_see_only_their_collectivity(factory):
    user = factory()
    assert list(visible_collectivities(user)) == [commune()]
    assert not visible_collectivities(user).filter(pk=other_commune().pk).exists()


def test_provincial_office_sees_the_communes_of_its_province_only():
    office = ProvincialOfficeFactory()
    visible = visible_collectivities(office)
    province = Collectivity.objects.get(code="01.511")
    expected = Collectivity.objects.filter(kind="commune", province=province)
    assert set(visible) == set(expected) and expected.count() == 12
    assert not visible.filter(pk=province.pk).exists()
    assert not visible.filter(pk=other_commune().pk).exists()


@pytest.mark.parametrize("factory", [CmrAgentFactory, DgctAdminFactory])
def test_national_roles_see_everything(factory):
    assert visible_collectivities(factory()).count() == 1590


def test_disabled_and_anonymous_accounts_see_nothing():
    from django.contrib.auth.models import AnonymousUser

    manager = ManagerFactory(is_active=False)
    assert not visible_collectivities(manager).exists()
    assert not visible_collectivities(AnonymousUser()).exists()
