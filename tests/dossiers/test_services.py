"""Dossiers through their services: opening guards, signed documents, the workflow, certification."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404

from cmr import rules as cmr_rules
from cmr.stages import StageNotAllowed, UnknownDossier, apply_stage_event
from dossiers import selectors, services
from dossiers.models import Certification, Document, Dossier, Event
from dossiers.services import DossierError
from signatures.services import verify_pdf
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.dossiers.conftest import BASIC, fill
from tests.factories import AgentFactory, ManagerFactory, other_commune

pytestmark = pytest.mark.django_db



def reasons(exc_info):
    return " ".join(str(r) for r in exc_info.value.reasons)


def open_(user, affiliate, code="age_limit", **kw):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code=code, **kw)


class TestOpening:
    def test_age_limit_dossier_opens_with_its_timeline_and_audit(self, officers, affiliate):
        _manager, agent = officers
        dossier = open_(agent, affiliate)
        assert dossier.state == "draft" and dossier.collectivity == affiliate.collectivity
        assert list(dossier.events.values_list("action", flat=True)) == ["opened"]
        lines = selectors.checklist(dossier)
        assert [line.item.code for line in lines if line.required] == BASIC  # married: marriage certificate

    def test_early_retirement_needs_article_4(self, officers):
        _manager, agent = officers
        junior = with_career(AffiliateFactory(sex="M", birth_date=date(1980, 1, 1),
                                              recruitment_date=date(2010, 1, 1)), family=False)
        with pytest.raises(DossierError) as exc:
            open_(agent, junior, "early")
        assert "L'article 4 n'est pas rempli" in reasons(exc)
        assert not Dossier.objects.exists()

    def test_early_retirement_opens_when_article_4_is_met(self, officers, affiliate):
        assert open_(officers[1], affiliate, "early").kind.code == "early"

    def test_death_dossier_only_for_a_deceased_affiliate(self, officers, affiliate):
        with pytest.raises(DossierError) as exc:
            open_(officers[1], affiliate, "death")
        assert "décédé" in reasons(exc)
        affiliate.status = "deceased"
        affiliate.save()
        assert open_(officers[1], affiliate, "death").kind.code == "death"

    def test_refund_only_without_a_pension_right(self, officers, affiliate):
        with pytest.raises(DossierError) as exc:
            open_(officers[1], affiliate, "refund")
        assert "droit à pension" in reasons(exc)

    def test_opening_counts_service_up_to_the_stop_as_the_situation_page_does(self):
        from affiliates.selectors import situation
        from dossiers.models import DossierKind

        refund, early = DossierKind.objects.get(code="refund"), DossierKind.objects.get(code="early")
        # Left in 2015 with a period never closed: 15 years 6 months, not 26; the refund is open to her.
        left = with_career(AffiliateFactory(status="left", service_ended_on=date(2015, 6, 30)), family=False)
        on = date(2026, 1, 1)
        assert not any("droit à pension" in str(p) for p in services.opening_problems(left, refund, on=on))
        assert not situation(left, on=on).eligibility.eligible
        # A man past his age limit (62 on 2022-01-01): 22 years counted, article 4 is not met.
        old = with_career(AffiliateFactory(sex="M", birth_date=date(1960, 1, 1)), family=False)
        assert situation(old, on=on).service.total.years == 22
        assert any("L'article 4 n'est pas rempli" in str(p) for p in services.opening_problems(old, early, on=on))

    def test_one_open_dossier_of_a_kind(self, officers, affiliate):
        open_(officers[1], affiliate)
        with pytest.raises(DossierError) as exc:
            open_(officers[1], affiliate)
        assert "déjà un dossier ouvert" in reasons(exc)
        assert Dossier.objects.count() == 1

    def test_supplementary_only_on_a_dossier_the_cmr_received(self, officers, affiliate):
        first = open_(officers[1], affiliate)
        with pytest.raises(DossierError):
            open_(officers[1], affiliate, "supplementary", parent_id=first.pk)
        Dossier.objects.filter(pk=first.pk).update(state="liquidated")
        assert open_(officers[1], affiliate, "supplementary", parent_id=first.pk).parent == first

    def test_another_collectivitys_affiliate_is_404(self, officers):
        foreign = AffiliateFactory(collectivity=other_commune())
        with pytest.raises(Http404):
            open_(officers[1], foreign)

    def test_an_agent_without_the_capability_cannot_open(self, officers, affiliate):
        reader = AgentFactory(can_prepare_dossiers=False)
        with pytest.raises(PermissionDenied):
            open_(reader, affiliate)


class TestDocuments:
    def test_signed_pdf_is_kept_with_its_verdict_and_digest(self, officers, affiliate, signed_pdf):
        dossier = open_(officers[1], affiliate)
        document, report = services.add_document(officers[1], dossier.pk, item_code="rib", filename="rib.pdf",
                                                 data=signed_pdf(cin="CD789012"))
        assert report.accepted and document.verdict == "OK" and document.signer == "Youssef Benali"
        assert len(document.sha256) == 64 and document.file.name.endswith(".pdf")
        assert "rib" not in document.file.name and str(dossier.reference) in document.file.name

    @pytest.mark.parametrize(("make", "code"), [
        (lambda signed, sample: sample("pas signé"), "NO_SIGNATURE"),
        (lambda signed, sample: b"not a pdf", "NOT_A_PDF"),
        (lambda signed, sample: signed(cin="AB123456", text="Montant").replace(b"(TEST-1)", b"(TEST-9)"),
         "SIGNATURE_INVALID"),
        (lambda signed, sample: signed(cin="EE345678"), "CERTIFICATE_REVOKED"),
        (lambda signed, sample: signed(cin="FG901234"), "CERTIFICATE_EXPIRED"),
    ])
    def test_refused_files_are_not_kept(self, officers, affiliate, signed_pdf, make, code):
        dossier = open_(officers[1], affiliate)
        document, report = services.add_document(officers[1], dossier.pk, item_code="rib", filename="x.pdf",
                                                 data=make(signed_pdf, __import__("tests.pki").pki.sample_pdf))
        assert document is None and report.code == code
        assert not Document.objects.exists()

    def test_signer_who_is_not_an_officer_of_the_collectivity(self, officers, affiliate, signed_pdf):
        ManagerFactory(collectivity=other_commune())
        from accounts.models import User

        User.objects.filter(cin="AB123456").update(collectivity=other_commune(), role="agent")
        dossier = open_(officers[1], affiliate)
        document, report = services.add_document(officers[1], dossier.pk, item_code="rib", filename="x.pdf",
                                                 data=signed_pdf(cin="AB123456"))
        assert document is None and report.code == "SIGNER_NOT_AUTHORISED"

    def test_too_large_file(self, officers, affiliate, settings):
        dossier = open_(officers[1], affiliate)
        big = b"%PDF-1.7\n" + b"0" * (25 * 1024 * 1024)
        document, report = services.add_document(officers[1], dossier.pk, item_code="rib", filename="big.pdf",
                                                 data=big)
        assert document is None and report.code == "TOO_LARGE"

    def test_same_file_twice_is_refused_and_a_new_file_replaces(self, officers, affiliate, signed_pdf):
        dossier = open_(officers[1], affiliate)
        data = signed_pdf(cin="CD789012", text="RIB")
        services.add_document(officers[1], dossier.pk, item_code="rib", filename="rib.pdf", data=data)
        with pytest.raises(DossierError) as exc:
            services.add_document(officers[1], dossier.pk, item_code="cin", filename="rib.pdf", data=data)
        assert "a déjà été reçu pour ce dossier" in reasons(exc)  # saying where it is: “rib.pdf”, its item
        services.add_document(officers[1], dossier.pk, item_code="rib", filename="rib2.pdf",
                              data=signed_pdf(cin="CD789012", text="RIB v2"))
        assert list(Document.objects.values_list("original_name", flat=True)) == ["rib2.pdf"]

    def test_another_collectivitys_dossier_is_404(self, officers, affiliate, signed_pdf):
        dossier = open_(officers[1], affiliate)
        stranger = ManagerFactory(collectivity=other_commune())
        with pytest.raises(Http404):
            services.add_document(stranger, dossier.pk, item_code="rib", filename="x.pdf", data=signed_pdf())
        assert not Document.objects.exists()


class TestWorkflow:
    def test_journey_submit_certify_cmr_stages(self, officers, affiliate, signed_pdf,
                                               django_capture_on_commit_callbacks):
        manager, agent = officers
        dossier = open_(agent, affiliate)
        with pytest.raises(DossierError) as exc:
            services.submit(agent, dossier.pk)
        assert "aucune pièce" in reasons(exc) and "agent habilité à préparer les dossiers" in reasons(exc)
        fill(agent, dossier, signed_pdf, BASIC[:-2])
        services.submit(agent, dossier.pk)

        with pytest.raises(DossierError) as exc:  # incomplete: every missing item listed
            services.certify(manager, dossier.pk)
        assert "Acte de mariage" in reasons(exc) and "Attestation de RIB" in reasons(exc)
        assert Dossier.objects.get(pk=dossier.pk).state == "awaiting_certification"

        services.apply_transition(dossier.pk, "return", by=manager, reason="Il manque le RIB et l'acte de mariage")
        fill(agent, dossier, signed_pdf, ["marriage", "rib"])
        services.submit(agent, dossier.pk)
        with pytest.raises(PermissionDenied):  # an agent without certifying authority
            services.certify(agent, dossier.pk)
        agent.can_certify_dossiers = True
        agent.save()
        with pytest.raises(DossierError) as exc:  # the preparer may not certify his own submission
            services.certify(agent, dossier.pk)
        assert "un autre agent habilité" in reasons(exc)
        with django_capture_on_commit_callbacks(execute=True):
            dossier = services.certify(manager, dossier.pk)
        assert dossier.state == "certified" and dossier.certified_by == manager
        certification = Certification.objects.get(dossier=dossier)
        slip = certification.slip.read()
        assert verify_pdf(slip).accepted  # the bordereau is sealed by the platform
        sent = certification.manifest["sent"]  # the manifest the outbox sends: 7 documents, then the slip
        assert len(sent["documents"]) == 8 and sent["documents"][-1] == {
            "name": "08-transmittal_slip.pdf", "code": "transmittal_slip", "size": len(slip),
            "sha256": certification.slip_sha256}
        assert any("Dossier" in m.subject for m in mail.outbox)

        with pytest.raises(DossierError):  # a second certification: refused, nothing doubled
            services.certify(manager, dossier.pk)
        assert Certification.objects.count() == 1

        def stage(name, event_id, details=None):
            apply_stage_event(cmr_rules.StageEvent(
                event_id=event_id, cmr_reference="CMR-2026-0001", portal_dossier_id=str(dossier.reference),
                stage=name, occurred_at=__import__("django.utils.timezone").utils.timezone.now(),
                details=details or {}))

        stage("received", "e1")
        stage("received", "e1")  # a replay changes nothing
        with pytest.raises(StageNotAllowed):
            stage("in_payment", "e2")
        stage("under_review", "e3")
        stage("documents_requested", "e4", {"items": ["rib"], "text": "RIB illisible"})
        dossier.refresh_from_db()
        assert dossier.state == "documents_requested" and dossier.cmr_reference == "CMR-2026-0001"
        assert dossier.round == 2
        fill(agent, dossier, signed_pdf, ["rib"])
        services.submit(agent, dossier.pk)
        services.certify(manager, dossier.pk)
        assert Certification.objects.filter(dossier=dossier).count() == 2
        actions = list(Event.objects.filter(dossier=dossier).values_list("action", flat=True))
        assert actions.count("receive") == 1 and "request_documents" in actions

    def test_unknown_dossier_and_wrong_role(self, officers, affiliate):
        with pytest.raises(UnknownDossier):
            apply_stage_event(cmr_rules.StageEvent(
                event_id="x", cmr_reference="R", portal_dossier_id="not-a-uuid", stage="received",
                occurred_at=__import__("django.utils.timezone").utils.timezone.now()))
        dossier = open_(officers[1], affiliate)
        with pytest.raises(PermissionDenied):  # a collectivity officer cannot take a CMR stage
            services.apply_transition(dossier.pk, "cancel", by=ManagerFactory(collectivity=other_commune()),
                                      reason="x")
        with pytest.raises(DossierError):  # not from draft
            services.apply_transition(dossier.pk, "liquidate", by=None)
        assert Dossier.objects.get(pk=dossier.pk).state == "draft"

    def test_observations_and_scoping(self, officers, affiliate):
        dossier = open_(officers[1], affiliate)
        services.add_observation(officers[0], dossier.pk, "Merci de vérifier la date de recrutement.")
        with pytest.raises(DossierError):
            services.add_observation(officers[0], dossier.pk, "   ")
        assert selectors.dossiers_for(ManagerFactory(collectivity=other_commune())).count() == 0
        assert selectors.dossiers_for(officers[0]).count() == 1




def test_timeline_names_documents_in_the_readers_language(officers, affiliate, signed_pdf, client):
    dossier = open_(officers[1], affiliate)
    fill(officers[1], dossier, signed_pdf, ["rib"])
    client.force_login(officers[1])
    arabic = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    french = client.get(f"/dossiers/{dossier.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    timeline = arabic.split('data-testid="timeline"')[1].split("</ol>")[0]
    assert "شهادة التعريف البنكي" in timeline and "Attestation de RIB" not in timeline
    assert "Attestation de RIB" in french.split('data-testid="timeline"')[1].split("</ol>")[0]


@pytest.mark.django_db
def test_a_hand_action_is_refused_outside_the_scope_and_from_the_wrong_state(officers, affiliate):
    """take_action (the dossier page's buttons): another commune's officer gets 404, nothing changes;
    a stage the state does not allow is refused."""
    manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    stranger = ManagerFactory(collectivity=other_commune())
    with pytest.raises(Http404):
        services.take_action(stranger, dossier.pk, "cancel", reason="not mine")
    with pytest.raises(DossierError):  # a draft cannot be liquidated, whoever asks
        services.take_action(manager, dossier.pk, "liquidate")
    services.take_action(agent, dossier.pk, "cancel", reason="opened by mistake")
    assert Dossier.objects.get(pk=dossier.pk).state == "cancelled"
    assert Event.objects.filter(dossier=dossier, action="cancel").count() == 1
