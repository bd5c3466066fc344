from datetime import date

import pytest

from affiliates.rules import add_ymd
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


def near_age_limit(**kw):
    """An affiliate of Tanger born 1964 or so, who reaches her age limit (63) six months from today: the
    age-limit dossier may be opened for her (``dossiers.rules.age_limit_near``)."""
    return AffiliateFactory(birth_date=add_ymd(date.today(), years=-63, months=6), **kw)


@pytest.fixture
def certifying_agent(officers):
    """The agent may certify too: only the four-eyes rule keeps him from certifying what he submitted."""
    agent = officers[1]
    agent.can_certify_dossiers = True
    agent.save()
    return agent


@pytest.fixture
def affiliate():
    """A woman of Tanger reaching her age limit in six months, in service since 2000 (26 years: eligible
    under article 4 too), married."""
    return with_career(near_age_limit())


@pytest.fixture
def kind():
    return lambda code: DossierKind.objects.get(code=code)
