"""The workflow engine (``dossiers.transitions``): every guard the workflow table names is real. For each,
the transition is refused with its reason while the guard fails and taken once it is met; ``possible``
and ``next_step`` say the same to the pages and the API, and name who may act.

The reasons are read in English (the msgids): the French and Arabic catalogues may word them later."""

import pytest
from django.utils import translation

from accounts.models import User
from dossiers import services, transitions
from dossiers.models import Document, Dossier
from dossiers.services import DossierError
from dossiers.workflow import TRANSITIONS
from signatures.services import MESSAGES, Code
from tests.dossiers.conftest import BASIC, fill
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def open_(user, affiliate, code="age_limit"):
    return services.open_dossier(user, affiliate_id=affiliate.pk, kind_code=code)


def refused(act, *args, **kw) -> tuple[str, str]:
    """The code and the reasons (in English) of a refused act, and the dossier left as it was."""
    with translation.override("en"), pytest.raises(DossierError) as exc:
        act(*args, **kw)
    with translation.override("en"):
        return exc.value.code, " ".join(str(r) for r in exc.value.reasons)


def option(user, dossier, name) -> transitions.Option:
    dossier = Dossier.objects.get(pk=dossier.pk)
    with translation.override("en"):
        found = [o for o in transitions.next_step(user, dossier).options if o.name == name]
        assert len(found) == 1, name
        return transitions.Option(found[0].transition, *(tuple(str(r) for r in part) for part in (
            found[0].account, found[0].personal, found[0].dossier)), who=found[0].who)


def state(dossier):
    return Dossier.objects.get(pk=dossier.pk).state


def submitted(officers, affiliate, signed_pdf, items=BASIC, by=None):
    """Filled by the agent (his signature) and submitted by ``by`` (the agent by default)."""
    _manager, agent = officers
    dossier = open_(agent, affiliate)
    fill(agent, dossier, signed_pdf, items)
    services.submit(by or agent, dossier.pk)
    return Dossier.objects.get(pk=dossier.pk)


def test_every_guard_the_table_names_is_implemented():
    named = {guard for t in TRANSITIONS.values() for guard in t.guards}
    assert named == set(transitions.GUARDS)
    assert named >= {"has_documents", "requested_documents_present", "complete", "signatures_accepted",
                     "certifier_is_not_preparer"}


class TestHasDocuments:
    def test_submit_is_refused_without_documents_and_taken_with_them(self, officers, affiliate, signed_pdf):
        agent = officers[1]
        dossier = open_(agent, affiliate)
        code, reasons = refused(services.submit, agent, dossier.pk)
        assert code == "incomplete" and "The dossier has no document yet: an officer who may prepare dossiers " \
            "adds its signed documents" in reasons
        assert not option(agent, dossier, "submit").allowed and state(dossier) == "draft"
        fill(agent, dossier, signed_pdf, ["rib"])
        assert option(agent, dossier, "submit").allowed
        assert services.submit(agent, dossier.pk).state == "awaiting_certification"


class TestRequestedDocumentsPresent:
    def test_the_supplement_needs_each_requested_item(self, officers, affiliate, signed_pdf):
        manager, agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        services.certify(manager, dossier.pk)
        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="received", event_id="g1")
        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="documents_requested",
                                 event_id="g2", request_items=["rib", "cin"], request_text="RIB et CIN illisibles")
        code, reasons = refused(services.submit, agent, dossier.pk)
        assert code == "incomplete" and "None of the documents the CMR asked for is added yet" in reasons
        fill(agent, dossier, signed_pdf, ["rib"])
        code, reasons = refused(services.submit, agent, dossier.pk)
        assert "Missing document: Copie de la CIN." in reasons and "RIB" not in reasons
        assert option(agent, dossier, "submit_supplement").dossier == ("Missing document: Copie de la CIN.",)
        fill(agent, dossier, signed_pdf, ["cin"])
        assert services.submit(agent, dossier.pk).state == "awaiting_certification"


class TestComplete:
    def test_certification_lists_every_missing_document(self, officers, affiliate, signed_pdf):
        manager, agent = officers
        dossier = submitted(officers, affiliate, signed_pdf, items=BASIC[:-2])
        code, reasons = refused(services.certify, manager, dossier.pk)
        assert code == "incomplete"
        assert "Missing document: Acte de mariage." in reasons and "Missing document: Attestation de RIB." in reasons
        assert option(manager, dossier, "certify").dossier == ("Missing document: Acte de mariage.",
                                                               "Missing document: Attestation de RIB.")
        services.apply_transition(dossier.pk, "return", by=manager, reason="Acte de mariage et RIB")
        fill(agent, dossier, signed_pdf, ["marriage", "rib"])
        services.submit(agent, dossier.pk)
        assert option(manager, dossier, "certify").allowed
        assert services.certify(manager, dossier.pk).state == "certified"


class TestSignaturesAccepted:
    def test_a_document_whose_verdict_is_not_ok_stops_the_certification(self, officers, affiliate, signed_pdf):
        manager, _agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        Document.objects.filter(dossier=dossier, item__code="rib").update(verdict=Code.CERTIFICATE_REVOKED)
        with translation.override("en"):
            expected = f"“rib.pdf”: {MESSAGES[Code.CERTIFICATE_REVOKED]}"
        code, reasons = refused(services.certify, manager, dossier.pk)
        assert code == "incomplete" and reasons == expected
        assert option(manager, dossier, "certify").dossier == (expected,)
        Document.objects.filter(dossier=dossier, item__code="rib").update(verdict=Code.OK)
        assert services.certify(manager, dossier.pk).state == "certified"

    def test_a_signer_no_longer_authorised_stops_the_certification(self, officers, affiliate, signed_pdf):
        manager, agent = officers
        dossier = submitted(officers, affiliate, signed_pdf, by=manager)  # the agent signed each document
        second = AgentFactory(full_name="Karim Tazi", can_certify_dossiers=True)
        User.objects.filter(pk=agent.pk).update(is_active=False)  # his account disabled since
        seen = option(second, dossier, "certify")  # the page: the recorded signer may no longer sign
        assert not seen.allowed and len(seen.dossier) == len(BASIC)
        assert "Youssef Benali may no longer sign for this collectivity" in seen.dossier[0]
        code, reasons = refused(services.certify, second, dossier.pk)  # the engine: verified again
        assert code == "incomplete" and reasons.count("Youssef Benali") >= len(BASIC)
        assert state(dossier) == "awaiting_certification"
        User.objects.filter(pk=agent.pk).update(is_active=True)
        assert option(second, dossier, "certify").allowed
        assert services.certify(second, dossier.pk).state == "certified"

    def test_a_stored_file_changed_since_the_upload_stops_the_certification(self, officers, affiliate,
                                                                             signed_pdf):
        manager, _agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        document = Document.objects.get(dossier=dossier, item__code="cin")
        with open(document.file.path, "ab") as stored:
            stored.write(b"\n% appended\n")
        code, reasons = refused(services.certify, manager, dossier.pk)
        assert code == "incomplete" and "The stored file of “cin.pdf” does not match its digest" in reasons


class TestCertifierIsNotPreparer:
    def test_the_submitter_may_not_certify_another_officer_may(self, officers, affiliate, signed_pdf,
                                                              certifying_agent):
        manager, agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        code, reasons = refused(services.certify, agent, dossier.pk)
        assert code == "four_eyes"
        assert reasons == ("The officer who submitted the dossier may not certify it too: another officer with "
                           "certifying authority must do it.")
        mine = option(agent, dossier, "certify")
        assert not mine.allowed and mine.personal and not mine.account and not mine.dossier
        assert option(manager, dossier, "certify").allowed
        assert services.certify(manager, dossier.pk).certified_by == manager

    def test_the_settings_switch_turns_the_guard_off(self, officers, affiliate, signed_pdf, certifying_agent,
                                                    settings):
        settings.DOSSIER_CERTIFIER_MUST_DIFFER = False
        _manager, agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        assert option(agent, dossier, "certify").allowed
        assert services.certify(agent, dossier.pk).certified_by == agent

    def test_the_guard_is_the_only_place_it_is_checked(self, officers, affiliate, signed_pdf, certifying_agent,
                                                       monkeypatch):
        _manager, agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        monkeypatch.setitem(transitions.GUARDS, "certifier_is_not_preparer",
                            transitions.Guard(lambda facts, by: [], personal=True))
        assert services.certify(agent, dossier.pk).state == "certified"


class TestWhoMayAct:
    def test_next_step_names_the_certifiers_but_the_submitter(self, officers, affiliate, signed_pdf,
                                                               certifying_agent):
        agent = certifying_agent
        AgentFactory(full_name="Karim Tazi", can_certify_dossiers=True)
        AgentFactory(full_name="Nadia Preparer", can_prepare_dossiers=True)  # no certifying authority
        pending = AgentFactory(full_name="Jamal Pending", can_certify_dossiers=True)
        pending.set_unusable_password()  # never activated: he cannot log in to certify
        pending.save()
        dossier = submitted(officers, affiliate, signed_pdf)
        assert option(agent, dossier, "certify").who == ("Amina El Idrissi", "Karim Tazi")
        assert set(option(agent, dossier, "return").who) == {"Amina El Idrissi", "Karim Tazi", "Youssef Benali"}

    def test_a_single_officer_council_has_no_one_to_certify(self, officers, affiliate, signed_pdf):
        manager, _agent = officers
        dossier = submitted(officers, affiliate, signed_pdf, by=manager)
        seen = option(manager, dossier, "certify")
        assert seen.who == () and not seen.allowed  # the agent may not certify; the manager submitted

    def test_the_cmr_and_the_platform_are_named_for_their_steps(self, officers, affiliate, signed_pdf):
        manager, _agent = officers
        dossier = submitted(officers, affiliate, signed_pdf)
        services.certify(manager, dossier.pk)
        dossier = Dossier.objects.get(pk=dossier.pk)
        with translation.override("en"):
            steps = {o.name: o for o in transitions.next_step(manager, dossier).options}
        assert steps["transmit"].who == ("the platform",) and not steps["transmit"].allowed
        assert steps["receive"].who == ("the CMR",)
        assert transitions.next_step(manager, dossier).actions == []  # nothing for the collectivity to click
