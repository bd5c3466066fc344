from datetime import date

import pytest

from dossiers import services
from dossiers.models import DossierKind
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.factories import AgentFactory, ManagerFactory
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

# The documents every age-limit dossier needs (with no children): the suite's usual complete dossier.
BASIC = ["application", "removal_decision", "cessation", "service_statement", "cin", "marriage", "rib"]


def fill(agent, dossier, signed_pdf, items=BASIC, signer="CD789012"):  # noqa: F811
    """Add each item's document, signed by ``signer`` (an officer of the test PKI); each must be accepted."""
    for code in items:
        document, report = services.add_document(agent, dossier.pk, item_code=code, filename=f"{code}.pdf",
                                                 data=signed_pdf(cin=signer, text=f"{code} {dossier.pk}"))
        assert document is not None, (code, report.code, report.detail)


@pytest.fixture
def officers(request):
    """Tanger's manager (certifies) and agent (prepares), whose CINs are test-PKI officers."""
    request.getfixturevalue("pki_settings")
    manager = ManagerFactory(username="AB123456", cin="AB123456", full_name="Amina El Idrissi",
                             email="amina@tanger.ma")
    agent = AgentFactory(username="CD789012", cin="CD789012", full_name="Youssef Benali", email="youssef@tanger.ma",
                         can_prepare_dossiers=True)
    return manager, agent


@pytest.fixture
def affiliate():
    """A woman of Tanger, born 1975, in service since 2000, married (26 years: eligible under article 4)."""
    return with_career(AffiliateFactory(birth_date=date(1975, 3, 14)))


@pytest.fixture
def kind():
    return lambda code: DossierKind.objects.get(code=code)
