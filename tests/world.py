"""A small world for the page-wide tests (every page translated, the screenshots): each role's account,
a registry and dossiers in every state the pages show, a correction request. Call it where files are
written on commit (a transactional test, or inside ``django_capture_on_commit_callbacks(execute=True)``)."""


def build_world(signed_pdf):
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from affiliates import services as affiliate_services
    from dossiers import services
    from dossiers.models import Dossier, DossierKind
    from tests.affiliates.factories import AffiliateFactory, with_career
    from tests.dossiers.conftest import fill, near_age_limit
    from tests.factories import (
        AgentFactory,
        CmrAgentFactory,
        DgctAdminFactory,
        ManagerFactory,
        ProvincialOfficeFactory,
        commune,
    )

    manager = ManagerFactory(username="AB123456", cin="AB123456", full_name="Amina El Idrissi",
                             email="amina@tanger.ma")
    agent = AgentFactory(username="CD789012", cin="CD789012", full_name="Youssef Benali", email="youssef@tanger.ma",
                         can_prepare_dossiers=True)
    accounts = {
        "manager": manager,
        "agent": agent,
        "provincial_office": ProvincialOfficeFactory(),
        "cmr_agent": CmrAgentFactory(),
        "dgct_admin": DgctAdminFactory(is_superuser=True),  # as the DGCT's administrators are
        "privacy_officer": DgctAdminFactory(username="dpo", full_name="Nadia Alaoui", is_privacy_officer=True),
    }
    person = with_career(near_age_limit())
    draft = services.open_dossier(agent, affiliate_id=person.pk, kind_code="age_limit")
    fill(agent, draft, signed_pdf, items=["application", "cin"])
    other = with_career(near_age_limit(last_name_fr="Tazi", first_name_fr="Hassan", last_name_ar="التازي",
                                       first_name_ar="حسن", sex="M"))
    ready = services.open_dossier(agent, affiliate_id=other.pk, kind_code="age_limit")
    fill(agent, ready, signed_pdf)
    services.submit(agent, ready.pk)
    third = with_career(near_age_limit(last_name_fr="Alaoui", first_name_fr="Karim", last_name_ar="العلوي",
                                       first_name_ar="كريم", sex="M"))
    sent = services.open_dossier(agent, affiliate_id=third.pk, kind_code="age_limit")
    fill(agent, sent, signed_pdf)
    services.submit(agent, sent.pk)
    services.certify(manager, sent.pk)  # its delivery fails: no back office listens in the tests
    affiliate_services.request_correction(
        agent, person.pk, field="birth_date", proposed_value="1963-05-02", reason="Erreur de saisie",
        document=SimpleUploadedFile("acte.pdf", signed_pdf(cin="CD789012", text="acte"),
                                    content_type="application/pdf"))
    for state in ("transmitted", "received", "under_review", "documents_requested", "liquidated", "in_payment",
                  "rejected"):
        someone = AffiliateFactory(collectivity=commune())
        accounts[f"at_cmr_{state}"] = Dossier.objects.create(
            kind=DossierKind.objects.get(code="age_limit"), affiliate=someone, collectivity=commune(), state=state,
            created_by=agent, state_changed_at=timezone.now() - timedelta(days=3))
    accounts["person"] = person
    accounts["draft"] = draft
    accounts["ready"] = ready
    return accounts
