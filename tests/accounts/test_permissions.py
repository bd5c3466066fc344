"""The capability table (accounts/permissions.py) drives this test: for each role (and sub-accounts with
each grant), each capability is probed on a page and, where there is one, on the API; an account
holding it gets in, one without is refused (403 for a feature, 404 for a read: what it may not read
does not exist for it). A sub-account whose manager turned every right off reads no dossier,
document or slip."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.permissions import ROLES, Capability, Scope, can, navigation_for
from dossiers import services
from dossiers.models import Certification, Document
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.factories import (
    AgentFactory,
    CmrAgentFactory,
    DgctAdminFactory,
    ManagerFactory,
    ProvincialOfficeFactory,
)
from tests.pki import sample_pdf

pytestmark = pytest.mark.django_db
C = Capability

ACCOUNTS = {
    "manager": lambda: ManagerFactory(),
    "agent without rights": lambda: AgentFactory(can_consult_affiliates=False, can_prepare_dossiers=False,
                                                 can_certify_dossiers=False),
    "agent who consults": lambda: AgentFactory(can_consult_affiliates=True),
    "agent who prepares": lambda: AgentFactory(can_consult_affiliates=True, can_prepare_dossiers=True),
    "agent who certifies": lambda: AgentFactory(can_consult_affiliates=False, can_certify_dossiers=True),
    "provincial office": lambda: ProvincialOfficeFactory(),
    "CMR agent": lambda: CmrAgentFactory(),
    "DGCT administrator": lambda: DgctAdminFactory(),
    "DGCT privacy officer": lambda: DgctAdminFactory(is_privacy_officer=True),
    "CMR privacy officer": lambda: CmrAgentFactory(is_privacy_officer=True),
    "manager marked privacy officer": lambda: ManagerFactory(is_privacy_officer=True),
}


@pytest.fixture
def affiliate():
    from datetime import date

    return with_career(AffiliateFactory(birth_date=date(1964, 3, 14)))


@pytest.fixture
def dossier(affiliate):
    """A Tanger dossier with a document and a certification slip."""
    preparer = AgentFactory(can_prepare_dossiers=True)
    dossier = services.open_dossier(preparer, affiliate_id=affiliate.pk, kind_code="age_limit")
    document = Document(dossier=dossier, item=dossier.kind.items.first(), original_name="rib.pdf", size=10,
                        sha256="0" * 64, uploaded_by=preparer, verdict="OK")
    document.file.save("x.pdf", ContentFile(sample_pdf()), save=False)
    document.save()
    certification = Certification(dossier=dossier, round=1, certified_by=preparer)
    certification.slip.save("s.pdf", ContentFile(sample_pdf()), save=False)
    certification.save()
    return dossier, document


def _pages(dossier, document):
    """capability -> [(url, status when held, status when not)]."""
    return {
        C.CONSULT_AFFILIATES: [(reverse("affiliates:search") + "?q=AB", 200, 403),
                               ("/api/v1/affiliates/?q=AB", 200, 403)],
        C.SEE_DOSSIERS: [(reverse("dossiers:list"), 200, 404),
                         (reverse("dossiers:detail", args=[dossier.pk]), 200, 404),
                         (reverse("dossiers:document", args=[dossier.pk, document.pk]), 200, 404),
                         (reverse("dossiers:slip", args=[dossier.pk, 1]), 200, 404),
                         (f"/api/v1/dossiers/{dossier.pk}/", 200, 404),
                         ("/api/v1/dossiers/", 200, 404)],
        C.ACT_ON_STAGES: [(reverse("dossiers:queue"), 200, 403)],
        C.FOLLOW_TRANSMISSIONS: [(reverse("cmr:transmissions"), 200, 404)],
        C.MANAGE_TEAM: [(reverse("team"), 200, 403)],
        C.ACT_FOR_COMMUNE: [(reverse("act_for"), 200, 403)],
        C.ADMINISTER: [(reverse("admin:index"), 200, 302)],
        C.AUDIT_READS: [(reverse("privacy:trail"), 200, 403), (reverse("privacy:export"), 200, 403)],
    }


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_each_capability_on_pages_and_api(who, dossier, settings):
    settings.SECURE_SSL_REDIRECT = False
    account = ACCOUNTS[who]()
    if account.role == User.Role.PROVINCIAL_OFFICE:
        assert account.collectivity.code == dossier[0].collectivity.province.code  # Tanger is in its province
    client, api = _client(account), APIClient()
    api.force_authenticate(account)
    for capability, probes in _pages(*dossier).items():
        held = can(account, capability)
        for url, granted, refused in probes:
            answer = (api if url.startswith("/api/") else client).get(url)
            expected = granted if held else refused
            assert answer.status_code == expected, (who, capability, url, answer.status_code)
            if not held and capability == C.SEE_DOSSIERS:
                assert b"rib.pdf" not in answer.content and dossier[0].affiliate.last_name_fr.encode() not in \
                    answer.content


def _client(account):
    from django.test import Client

    client = Client()
    client.force_login(account)
    return client


@pytest.mark.parametrize("who", list(ACCOUNTS))
def test_navigation_shows_what_the_account_may_use(who):
    account = ACCOUNTS[who]()
    keys = {key for _, _, key in navigation_for(account)}
    assert ("search" in keys) == can(account, C.CONSULT_AFFILIATES)
    assert ("team" in keys) == can(account, C.MANAGE_TEAM)
    assert ("queue" in keys) == can(account, C.ACT_ON_STAGES)
    assert ("list" in keys) == (can(account, C.SEE_DOSSIERS) and not can(account, C.ACT_ON_STAGES))
    assert ("transmissions" in keys) == can(account, C.FOLLOW_TRANSMISSIONS)
    assert ("act_for" in keys) == can(account, C.ACT_FOR_COMMUNE)
    assert ("requests" in keys) == can(account, C.ANSWER_SUPPORT) and "help" in keys


def test_a_sub_account_with_every_right_off_reads_no_dossier(dossier, client):
    pk, document = dossier[0].pk, dossier[1]
    agent = ACCOUNTS["agent without rights"]()
    client.force_login(agent)
    for url in (reverse("dossiers:list"), reverse("dossiers:detail", args=[pk]),
                reverse("dossiers:document", args=[pk, document.pk]), reverse("dossiers:slip", args=[pk, 1]),
                reverse("dossiers:affiliate_block", args=[dossier[0].affiliate_id])):
        answer = client.get(url)
        assert answer.status_code in (403, 404) and b"rib.pdf" not in answer.content, url
    api = APIClient()
    api.force_authenticate(agent)
    assert api.get(f"/api/v1/dossiers/{pk}/").status_code == 404
    assert api.get("/api/v1/dossiers/").status_code == 404
    # Granted a dossier right, he reads them; the right withdrawn, he no longer does.
    User.objects.filter(pk=agent.pk).update(can_prepare_dossiers=True)
    assert client.get(reverse("dossiers:detail", args=[pk])).status_code == 200
    User.objects.filter(pk=agent.pk).update(can_prepare_dossiers=False)
    assert client.get(reverse("dossiers:detail", args=[pk])).status_code == 404


def test_every_role_has_a_row_and_a_scope():
    assert set(ROLES) == set(User.Role)
    assert {rule.scope for rule in ROLES.values()} <= set(Scope)
    anonymous = type("Anonymous", (), {"is_authenticated": False})()
    assert not any(can(anonymous, c) for c in Capability)


def test_a_disabled_account_holds_nothing():
    manager = ManagerFactory(is_active=False)
    assert not any(can(manager, c) for c in Capability)


def test_the_scoping_selector_itself_yields_no_dossier_without_the_right(dossier, client):
    """Not only the pages: the one selector every dossier read goes through (the situation page's
    dossier block has no other guard)."""
    from dossiers.selectors import dossiers_for

    reader = ACCOUNTS["agent who consults"]()
    assert not dossiers_for(reader).exists()
    assert dossiers_for(ACCOUNTS["agent who prepares"]()).count() == 1
    client.force_login(reader)
    block = client.get(reverse("dossiers:affiliate_block", args=[dossier[0].affiliate_id]))
    assert block.status_code == 200 and b"dossier-link" not in block.content
