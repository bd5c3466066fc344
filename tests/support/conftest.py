from datetime import timedelta

import pytest
from django.utils import timezone

from dossiers.models import Dossier, DossierKind
from tests.affiliates.factories import AffiliateFactory
from tests.factories import AgentFactory, CmrAgentFactory, DgctAdminFactory, ManagerFactory, commune, other_commune


def make_dossier(where=None, *, state="draft"):
    """A dossier of ``where`` (Tanger by default), with an affiliate whose name is easy to look for."""
    where = where or commune()
    affiliate = AffiliateFactory(collectivity=where, last_name_fr="Zerhouni", first_name_fr="Latifa")
    return Dossier.objects.create(kind=DossierKind.objects.get(code="age_limit"), affiliate=affiliate,
                                  collectivity=where, state=state,
                                  state_changed_at=timezone.now() - timedelta(days=1),
                                  created_by=AgentFactory(collectivity=where, can_prepare_dossiers=True))


@pytest.fixture
def manager():
    return ManagerFactory(email="amina@tanger.ma", full_name="Amina El Idrissi")


@pytest.fixture
def colleague():
    """An agent of the same commune (Tanger)."""
    return AgentFactory(can_prepare_dossiers=True, email="youssef@tanger.ma")


@pytest.fixture
def stranger():
    """The manager of a commune of another province."""
    return ManagerFactory(collectivity=other_commune(), email="someone@fes.ma")


@pytest.fixture
def cmr():
    return CmrAgentFactory(full_name="Nadia Support", email="nadia@cmr.ma")


@pytest.fixture
def dgct():
    return DgctAdminFactory(email="admin@dgct.ma")


@pytest.fixture
def dossier():
    return make_dossier()


@pytest.fixture
def foreign_dossier():
    return make_dossier(other_commune())
