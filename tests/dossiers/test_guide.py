"""Pages that guide (issue 15, item 3): a destructive or legal act asks for confirmation (and posting it
unconfirmed changes nothing), the timeline reads newest first and says each thing once, an empty page says
what to do next, and a workflow act's success is a sentence saying what happened; in French and Arabic."""

import html
import re
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cmr.models import Transmission
from dossiers import services
from dossiers.models import Certification, Document, Dossier, Event, PendingCertification
from dossiers.workflow import TRANSITIONS, Actor
from eretraite.confirm import ACTS
from tests.dossiers.conftest import BASIC, fill
from tests.dossiers.test_token_certification import issued, token_mode  # noqa: F401
from tests.factories import AgentFactory, CmrAgentFactory, DgctAdminFactory

pytestmark = pytest.mark.django_db


ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069"))  # bidi isolation marks around names


def text(response) -> str:
    """A page's words, tags and bidi isolation marks dropped, spaces squeezed."""
    body = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).translate(ISOLATES)


def confirmation(response) -> str:
    body = response.content.decode()
    assert 'data-testid="confirmation"' in body, "no confirmation page"
    return body


def act_url(dossier, name):
    return reverse("dossiers:act", args=[dossier.pk, name])


def alerts(response) -> list[str]:
    return [re.sub(r"\s+", " ", html.unescape(a)).strip().translate(ISOLATES)
            for a in re.findall(r'<div class="alert alert-\w+" role="alert">(.*?)</div>', response.content.decode(),
                                re.S)]


@pytest.fixture
def submitted(officers, affiliate, signed_pdf):
    manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(agent, dossier, signed_pdf)
    services.submit(agent, dossier.pk)
    return dossier


def at_the_cmr(dossier, *stages):
    """The back office reports receipt (the dossier gets its CMR reference), then ``stages``."""
    services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="received", event_id=f"r-{dossier.pk}",
                             cmr_reference=f"CMR-{dossier.pk}")
    for n, stage in enumerate(stages):
        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage=stage,
                                 event_id=f"s{n}-{dossier.pk}")
    return Dossier.objects.get(pk=dossier.pk)


class TestConfirmations:
    def test_certifying_asks_first_naming_the_dossier_what_it_sends_and_engages(self, client, officers, submitted,
                                                                               affiliate):
        manager, _agent = officers
        client.force_login(manager)
        for language, title, consequence, button in [
                ("fr", f"Certifier le dossier de {affiliate.full_name_fr} ?", "ne peut plus ensuite être modifié",
                 "Oui, certifier le dossier"),
                ("ar", f"هل تريدون التصديق على ملف {affiliate.full_name_ar}؟", "لا يمكن بعد ذلك تعديله",
                 "نعم، صادقوا على الملف")]:
            response = client.post(act_url(submitted, "certify"), HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200
            page = confirmation(response)
            words = text(response)
            assert title in words and consequence in words and button in words
            assert submitted.short_reference in words and affiliate.affiliation_number in words
            assert page.count("<li><bdi>") == len(BASIC)  # each document the certification sends
            assert 'name="confirmed" value="1"' in page and f'action="{act_url(submitted, "certify")}"' in page
            assert f'href="{reverse("dossiers:detail", args=[submitted.pk])}"' in page  # the way back
            assert ('dir="rtl"' in page) == (language == "ar")
        submitted.refresh_from_db()
        assert submitted.state == "awaiting_certification"
        assert not Certification.objects.exists() and not Transmission.objects.exists()
        assert not submitted.events.filter(action="certify").exists()

        response = client.post(act_url(submitted, "certify"), {"confirmed": "1"}, follow=True,
                               HTTP_ACCEPT_LANGUAGE="fr")
        submitted.refresh_from_db()
        assert submitted.state == "certified" and Transmission.objects.filter(dossier=submitted).count() == 1
        assert "Le dossier a été certifié et mis en file d'envoi vers la CMR." in alerts(response)

    def test_what_refuses_the_act_is_said_at_once_not_after_confirming(self, client, officers, affiliate,
                                                                       signed_pdf):
        manager, agent = officers
        dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        fill(agent, dossier, signed_pdf, BASIC[:-1])  # no RIB
        services.submit(agent, dossier.pk)
        client.force_login(manager)
        response = client.post(act_url(dossier, "certify"), follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert 'data-testid="confirmation"' not in response.content.decode()
        assert any("Attestation de RIB" in alert for alert in alerts(response))
        # the state the step is taken from, and who may take it, named
        draft = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="early")
        response = client.post(act_url(draft, "certify"), {"confirmed": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert "« Certifier » n'est pas possible maintenant : le dossier est à l'état « Brouillon », et cette étape " \
               "ne se prend qu'à partir de : En attente de certification." in alerts(response)
        client.force_login(agent)  # may not certify: who may, said
        response = client.post(act_url(dossier, "certify"), {"confirmed": "1"}, follow=True,
                               HTTP_ACCEPT_LANGUAGE="ar")
        assert "لا يمكن لحسابك القيام بذلك: هذا من مهام موظف مخول له التصديق على الملفات." in alerts(response)
        assert Dossier.objects.get(pk=dossier.pk).state == "awaiting_certification"

    def test_cancelling_asks_with_the_reason_then_cancels(self, client, officers, affiliate):
        _manager, agent = officers
        dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        client.force_login(agent)
        response = client.post(act_url(dossier, "cancel"), {"reason": "Ouvert par erreur"},
                               HTTP_ACCEPT_LANGUAGE="ar")
        page = confirmation(response)
        words = text(response)
        assert f"هل تريدون إلغاء ملف {affiliate.full_name_ar}؟" in words and "يُغلق الملف نهائيا" in words
        assert "Ouvert par erreur" in words and 'name="reason" value="Ouvert par erreur"' in page  # posted again
        assert Dossier.objects.get(pk=dossier.pk).state == "draft"
        assert list(Event.objects.filter(dossier=dossier).values_list("action", flat=True)) == ["opened"]

        response = client.post(act_url(dossier, "cancel"), {"reason": "Ouvert par erreur", "confirmed": "1"},
                               follow=True, HTTP_ACCEPT_LANGUAGE="ar")
        assert Dossier.objects.get(pk=dossier.pk).state == "cancelled"
        assert "أُلغي الملف، وهو الآن مغلق بصفة نهائية." in alerts(response)

    def test_removing_a_document_asks_naming_it_then_removes_it(self, client, officers, affiliate, signed_pdf):
        _manager, agent = officers
        dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        fill(agent, dossier, signed_pdf, ["rib"])
        document = Document.objects.get()
        url = reverse("dossiers:document_remove", args=[dossier.pk, document.pk])
        client.force_login(agent)
        response = client.post(url, HTTP_ACCEPT_LANGUAGE="fr")
        confirmation(response)
        words = text(response)
        assert "Retirer « rib.pdf » du dossier ?" in words and "Attestation de RIB" in words
        assert "ne peut pas être récupéré" in words and "Youssef Benali" in words
        assert Document.objects.filter(pk=document.pk).exists()
        assert not dossier.events.filter(action="document_removed").exists()

        response = client.post(url, {"confirmed": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert not Document.objects.filter(pk=document.pk).exists()
        assert "« rib.pdf » a été retirée du dossier." in alerts(response)

    def test_a_liquidation_asks_showing_its_figures_then_is_sent(self, client, officers, submitted):
        manager, _agent = officers
        services.certify(manager, submitted.pk)
        dossier = at_the_cmr(submitted, "under_review")
        cmr = CmrAgentFactory(full_name="Nadia Cherkaoui")
        client.force_login(cmr)
        effective = (date.today() + timedelta(days=40)).isoformat()
        figures = {"pension_number": "P000123456", "pension_monthly": "4512,30", "pension_effective": effective}
        response = client.post(act_url(dossier, "liquidate"), figures, HTTP_ACCEPT_LANGUAGE="fr")
        page = confirmation(response)
        words = text(response)
        assert "Liquider la pension de" in words and "P000123456" in words and "4 512,30 DH" in words
        assert "Demandé à la CMR Liquidé" in words and "ne peut plus être annulée depuis le portail" in words
        assert 'name="pension_number" value="P000123456"' in page
        assert not Transmission.objects.filter(kind="command").exists()  # nothing sent

        bad = client.post(act_url(dossier, "liquidate"), {**figures, "pension_monthly": "abc"}, follow=True,
                          HTTP_ACCEPT_LANGUAGE="fr")  # refused before any confirmation
        assert 'data-testid="confirmation"' not in bad.content.decode()
        assert any("montant mensuel" in alert for alert in alerts(bad))

        response = client.post(act_url(dossier, "liquidate"), {**figures, "confirmed": "1"}, follow=True,
                               HTTP_ACCEPT_LANGUAGE="fr")
        command = Transmission.objects.get(kind="command")
        assert command.stage == "liquidated" and command.details["pension_number"] == "P000123456"
        assert ("La liquidation a été envoyée à la CMR avec les données de la pension : le dossier est liquidé dès "
                "que la CMR confirme.") in alerts(response)

    def test_a_rejection_asks_with_its_reason_in_arabic(self, client, officers, submitted):
        manager, _agent = officers
        services.certify(manager, submitted.pk)
        dossier = at_the_cmr(submitted)
        client.force_login(CmrAgentFactory())
        response = client.post(act_url(dossier, "reject"), {"reason": "Dossier incomplet"}, HTTP_ACCEPT_LANGUAGE="ar")
        confirmation(response)
        words = text(response)
        assert "هل تريدون رفض ملف" in words and "Dossier incomplet" in words and "يُغلق الملف نهائيا" in words
        assert not Transmission.objects.filter(kind="command").exists()
        response = client.post(act_url(dossier, "reject"), {"reason": "Dossier incomplet", "confirmed": "1"},
                               follow=True, HTTP_ACCEPT_LANGUAGE="ar")
        assert Transmission.objects.get(kind="command").stage == "rejected"
        assert "أُرسل الرفض وسببه إلى الصندوق: يُرفض الملف ما إن يؤكد الصندوق." in alerts(response)

    def test_putting_in_payment_asks(self, client, officers, submitted):
        manager, _agent = officers
        services.certify(manager, submitted.pk)
        dossier = at_the_cmr(submitted, "under_review", "liquidated")
        client.force_login(CmrAgentFactory())
        response = client.post(act_url(dossier, "pay"), HTTP_ACCEPT_LANGUAGE="fr")
        confirmation(response)
        assert "Mettre en paiement la pension de" in text(response)
        assert not Transmission.objects.filter(kind="command").exists()
        client.post(act_url(dossier, "pay"), {"confirmed": "1"})
        assert Transmission.objects.get(kind="command").stage == "in_payment"

    def test_a_step_that_engages_nothing_is_taken_at_once(self, client, officers, submitted):
        manager, _agent = officers
        services.certify(manager, submitted.pk)
        dossier = at_the_cmr(submitted)
        client.force_login(CmrAgentFactory())
        response = client.post(act_url(dossier, "review"), follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert 'data-testid="confirmation"' not in response.content.decode()
        assert Transmission.objects.get(kind="command").stage == "under_review"
        assert ("Le début de l'examen a été envoyé à la CMR : le dossier passe en cours d'examen dès que la CMR "
                "confirme.") in alerts(response)

    def test_the_signed_slip_is_certified_only_when_confirmed(self, token_mode, client, officers, submitted, pki):  # noqa: F811
        manager, _agent = officers
        client.force_login(manager)
        client.post(reverse("dossiers:slip_to_sign", args=[submitted.pk]))
        page = client.get(reverse("dossiers:detail", args=[submitted.pk]), HTTP_ACCEPT_LANGUAGE="fr")
        assert 'name="confirmed" value="1" id="certify-confirmed" required' in page.content.decode()
        assert "Je confirme la certification." in text(page)
        signed = pki.sign(issued(PendingCertification.objects.get()), "AB123456")
        url = reverse("dossiers:certify_signed", args=[submitted.pk])
        response = client.post(url, {"file": SimpleUploadedFile("signed.pdf", signed, "application/pdf")},
                               HTTP_ACCEPT_LANGUAGE="ar")
        body = confirmation(response)
        assert 'type="file"' in body and 'enctype="multipart/form-data"' in body  # chosen again, then confirmed
        assert "هل تريدون التصديق على ملف" in text(response)
        assert Dossier.objects.get(pk=submitted.pk).state == "awaiting_certification"
        assert PendingCertification.objects.count() == 1 and not Certification.objects.exists()
        response = client.post(url, {"file": SimpleUploadedFile("signed.pdf", signed, "application/pdf"),
                                     "confirmed": "1"}, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert Dossier.objects.get(pk=submitted.pk).state == "certified"
        assert "Le dossier a été certifié et mis en file d'envoi vers la CMR." in alerts(response)

    def test_the_confirmation_pages_read_in_the_readers_language(self, client, officers, submitted, affiliate,
                                                                 signed_pdf):
        from tests.eretraite.readable import problems

        manager, agent = officers
        draft = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="early")
        fill(agent, draft, signed_pdf, ["rib"])
        document = Document.objects.get(dossier=draft)
        data = frozenset(re.findall(r"[\w.'’-]+", " ".join([
            affiliate.last_name_fr, affiliate.first_name_fr, manager.full_name, agent.full_name,
            *[f"{name} {name.rsplit('.', 1)[0]}" for name in Document.objects.values_list("original_name",
                                                                                       flat=True)]])))
        for user, url, posted in [
                (manager, act_url(submitted, "certify"), {}),
                (agent, act_url(draft, "cancel"), {"reason": "Ouvert par erreur"}),
                (agent, reverse("dossiers:document_remove", args=[draft.pk, document.pk]), {})]:
            client.force_login(user)
            for language in ("fr", "ar"):
                page = client.post(url, posted, HTTP_ACCEPT_LANGUAGE=language).content.decode()
                assert 'data-testid="confirmation"' in page, url
                assert problems(page, language, data | {"Ouvert", "par", "erreur"}) == [], (url, language)

    def test_the_api_is_not_asked(self, officers, submitted):
        from tests.factories import api_client_for

        manager, _agent = officers
        answer = api_client_for(manager).post(f"/api/v1/dossiers/{submitted.pk}/certify/")
        assert answer.status_code == 200 and Dossier.objects.get(pk=submitted.pk).state == "certified"

    def test_every_act_that_ends_a_dossier_or_engages_the_officer_asks(self):
        asks = {name for name in TRANSITIONS if f"dossier.{name}" in ACTS}
        assert asks == {"certify", "cancel", "liquidate", "pay", "reject"}
        for act in ACTS.values():  # and says it in both languages
            for words in (act.title, act.consequence, act.button):
                with translation.override("en"):
                    english = str(words)
                for language in ("fr", "ar"):
                    with translation.override(language):
                        assert str(words) != english, (language, english)


class TestSuccessSentences:
    def test_each_act_taken_by_hand_says_what_happened_not_its_button(self):
        for transition in TRANSITIONS.values():
            if transition.actor == Actor.SYSTEM or transition.name == "receive":
                continue  # never taken by hand
            for language in ("en", "fr", "ar"):
                with translation.override(language):
                    done, label = str(transition.done), str(transition.label)
                    assert done.endswith(".") and len(done.split()) > 4 and not done.startswith(
                        (label, "Done", "Fait", "تم:", "Sent to the CMR:", "Envoyé à la CMR :")), (transition.name,
                                                                                                  language)

    def test_submitting_on_the_page_says_so_in_both_languages(self, client, officers, affiliate, signed_pdf):
        _manager, agent = officers
        client.force_login(agent)
        for language, sentence in [
                ("fr", "Le dossier a été soumis à la certification : un agent habilité à le certifier peut maintenant "
                       "le faire."),
                ("ar", "أُحيل الملف على التصديق: يمكن الآن لموظف مخول له التصديق أن يصادق عليه.")]:
            dossier = services.open_dossier(agent, affiliate_id=affiliate.pk,
                                            kind_code="age_limit" if language == "fr" else "early")
            fill(agent, dossier, signed_pdf, ["rib"])
            response = client.post(act_url(dossier, "submit"), follow=True, HTTP_ACCEPT_LANGUAGE=language)
            assert sentence in alerts(response)
            assert not any(alert.startswith(("Fait", "تم:")) for alert in alerts(response))


def timeline(response) -> list[str]:
    """The timeline's top-level lines, each as its words, in the page's order."""
    body = response.content.decode().split('data-testid="timeline"')[1]
    body = body[:body.index("</ol>\n</div></div></section>")]
    lines, depth, current = [], 0, ""
    for token in re.split(r"(<li\b[^>]*>|</li>)", body):
        if token.startswith("<li"):
            depth += 1
            if depth == 1:
                current = token
                continue
        elif token == "</li>":
            depth -= 1
            if depth == 0:
                lines.append(current)
                continue
        if depth >= 1:
            current += token
    return [re.sub(r"\s+", " ", html.unescape(re.sub(r"<(?!li)[^>]+>", " ", line))).strip().translate(ISOLATES)
            for line in lines]


class TestTimeline:
    def test_newest_first_and_the_versions_of_one_document_on_one_line(self, client, officers, affiliate,
                                                                       signed_pdf):
        _manager, agent = officers
        dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        for n in range(5):
            services.add_document(agent, dossier.pk, item_code="rib", filename=f"rib-{n}.pdf",
                                  data=signed_pdf(cin="CD789012", text=f"RIB version {n}"))
        fill(agent, dossier, signed_pdf, ["cin"])
        client.force_login(agent)
        french = timeline(client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr"))
        assert len(french) == 3
        assert 'data-action="document_added"' in french[0] and "Copie de la CIN" in french[0]  # the newest
        assert 'data-versions="5"' in french[1] and "5 versions de « Attestation de RIB » déposées" in french[1]
        assert all(f"rib-{n}.pdf" in french[1] for n in range(5))  # each version, under <details>
        assert french[1].index("rib-4.pdf") < french[1].index("rib-0.pdf")  # newest first there too
        assert 'data-action="opened"' in french[2]  # the oldest, last
        arabic = timeline(client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="ar"))
        assert "حُمِّلت 5 نسخ من «شهادة التعريف البنكي»" in arabic[1] and "عرض كل نسخة" in arabic[1]
        page = client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "<details" in page and "<summary>Voir chaque version</summary>" in page

    def test_a_removal_in_the_run_is_counted_as_a_change(self, client, officers, affiliate, signed_pdf):
        _manager, agent = officers
        dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        fill(agent, dossier, signed_pdf, ["rib"])
        services.remove_document(agent, Document.objects.get().pk)
        client.force_login(agent)
        lines = timeline(client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr"))
        assert len(lines) == 2 and "2 modifications de « Attestation de RIB » (dépôts et retraits)" in lines[0]
        assert 'data-version-action="document_removed"' in lines[0]

    def test_a_stage_command_and_its_confirmation_are_one_line(self, client, officers, submitted):
        manager, _agent = officers
        services.certify(manager, submitted.pk)
        dossier = at_the_cmr(submitted)
        cmr = CmrAgentFactory(full_name="Nadia Cherkaoui")
        services.take_action(cmr, dossier.pk, "review")
        client.force_login(manager)
        lines = timeline(client.get(reverse("dossiers:detail", args=[dossier.pk]), HTTP_ACCEPT_LANGUAGE="fr"))
        assert 'data-action="stage_sent"' in lines[0]
        assert "Commencer l'examen : envoyé à la CMR, pas encore confirmé" in lines[0] and "Nadia Cherkaoui" in lines[0]

        services.apply_cmr_stage(portal_dossier_id=str(dossier.reference), stage="under_review", event_id="conf-1",
                                 by_name="Nadia Cherkaoui")
        assert Event.objects.filter(dossier=dossier, action__in=["stage_sent", "review"]).count() == 2  # both kept
        for language, sent in [("fr", "Envoyé par Nadia Cherkaoui le"), ("ar", "أرسله Nadia Cherkaoui بتاريخ")]:
            lines = timeline(client.get(reverse("dossiers:detail", args=[dossier.pk]),
                                        HTTP_ACCEPT_LANGUAGE=language))
            assert not any('data-action="stage_sent"' in line for line in lines)  # shown once, as the stage
            assert 'data-action="review"' in lines[0] and sent in re.sub(r"</?bdi>", "", lines[0])  # name isolated
            assert sum('data-action="review"' in line for line in lines) == 1

    def test_a_label_that_names_the_state_does_not_repeat_it(self, client, officers, submitted):
        manager, _agent = officers
        services.certify(manager, submitted.pk)
        services.apply_transition(submitted.pk, "transmit", by=None)
        client.force_login(manager)
        lines = timeline(client.get(reverse("dossiers:detail", args=[submitted.pk]), HTTP_ACCEPT_LANGUAGE="fr"))
        assert 'data-action="transmit"' in lines[0] and lines[0].count("Transmis à la CMR") == 1
        assert lines[1].count("Certifier") == 1 and "Certifié" in lines[1]  # the act, then the state it reached


class TestEmptyStates:
    def test_an_empty_portfolio_says_how_to_open_a_dossier(self, client, officers, affiliate):
        _manager, agent = officers
        client.force_login(agent)
        for language, words in [("fr", "Aucun dossier pour l'instant. Pour en ouvrir un, trouvez l'affilié sous "
                                       "« Affiliés »"),
                                ("ar", "لا يوجد أي ملف بعد. لفتح ملف، ابحثوا عن المنخرط في «المنخرطون»")]:
            assert words in text(client.get(reverse("dossiers:list"), HTTP_ACCEPT_LANGUAGE=language))
        services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
        filtered = client.get(reverse("dossiers:list"), {"state": "rejected"}, HTTP_ACCEPT_LANGUAGE="fr")
        assert "Aucun dossier ne correspond à ces filtres. Effacez les filtres pour voir tous les dossiers." \
            in text(filtered)

    def test_an_empty_queue_says_why(self, client, officers, submitted):
        client.force_login(CmrAgentFactory())
        assert "Aucun dossier n'est encore parvenu à la CMR" in text(client.get(reverse("dossiers:queue"),
                                                                               HTTP_ACCEPT_LANGUAGE="fr"))
        services.certify(officers[0], submitted.pk)
        at_the_cmr(submitted, "documents_requested")  # waiting for the collectivity: nothing to process
        words = text(client.get(reverse("dossiers:queue"), HTTP_ACCEPT_LANGUAGE="ar"))
        assert "لا شيء للمعالجة الآن" in words
        words = text(client.get(reverse("dossiers:queue"), {"kind": "death"}, HTTP_ACCEPT_LANGUAGE="fr"))
        assert "Aucun dossier à la CMR ne correspond à ces filtres. Effacer les filtres." in words

    def test_the_home_page_says_what_comes_there(self, client):
        client.force_login(AgentFactory(can_prepare_dossiers=True))
        words = text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr"))
        assert "Aucun dossier pour l'instant : trouvez un affilié sous « Affiliés »" in words
        assert "les étapes de la CMR apparaissent ici dès qu'un dossier certifié lui est parvenu" in words
        client.force_login(CmrAgentFactory())
        assert "لم يصل أي ملف إلى الصندوق بعد." in text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ar"))

    def test_a_search_without_result_says_what_to_try(self, client, officers):
        client.force_login(officers[0])
        words = text(client.get(reverse("affiliates:search"), {"q": "Zzyzxqwv"}, HTTP_ACCEPT_LANGUAGE="fr"))
        assert "ne correspond à « Zzyzxqwv ». Vérifiez l'orthographe, ou cherchez par CIN, PPR ou numéro " \
               "d'affiliation" in words
        words = text(client.get(reverse("affiliates:search"), {"q": "Zzyzxqwv"}, HTTP_ACCEPT_LANGUAGE="ar"))
        assert "تحققوا من الإملاء، أو ابحثوا برقم البطاقة الوطنية" in words

    def test_no_failed_transmission_is_said_so(self, client):
        client.force_login(DgctAdminFactory())
        words = text(client.get(reverse("cmr:transmissions"), HTTP_ACCEPT_LANGUAGE="fr"))
        assert "Aucune transmission en échec : chaque dossier certifié est parvenu à la CMR ou est en route." in words
        words = text(client.get(reverse("cmr:transmissions"), {"status": "delivered"}, HTTP_ACCEPT_LANGUAGE="ar"))
        assert "لا يوجد أي إرسال في هذه الوضعية" in words
