"""The CMR agent's stage actions in a real browser, in French and in Arabic.

A retirement dossier is certified and delivered to the (real, mock) CMR back office through the
outbox; the back office reports its receipt by callback to the live portal. A CMR agent finds it in
his queue filtered by state, starts the review and asks for documents (checklist items and free
text): each act is a command to the back office, and the dossier moves when the back office confirms
it. The collectivity's agent sees what is asked again, adds a signed supplement and submits it; the
manager certifies it (the supplement is delivered as the second sending, and the back office takes
the review up again by itself); the CMR agent liquidates, with the pension's figures, and puts it in
payment.
"""

import re

import pytest
from playwright.sync_api import expect

from cmr.models import Transmission
from dossiers import services
from dossiers.models import DocumentRequest, Dossier
from tests.cmr_mock import TEST_SECRET, callback_receiver, cmr_mock_factory, wait_until  # noqa: F401
from tests.dossiers.conftest import affiliate, fill, officers  # noqa: F401
from tests.e2e.helpers import login, off_loop
from tests.factories import CmrAgentFactory
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

# What the pages say, from locale/fr and locale/ar (asserted literally: a lost msgstr fails here).
TEXT = {
    "fr": {
        "queue": "File d'attente", "filter": "Filtrer",
        "transmitted": "Transmis à la CMR", "received": "Reçu par la CMR", "under_review": "En cours d'examen",
        "documents_requested": "Pièces demandées", "awaiting_certification": "En attente de certification",
        "liquidated": "Liquidé", "in_payment": "En paiement",
        "receive": "Reçu", "review": "Commencer l'examen", "liquidate": "Liquider", "pay": "Mettre en paiement",
        "reject": "Rejeter", "request": "Demander des pièces",
        "asks": "La CMR demande des pièces", "submit_supplement": "Soumettre le complément à la certification",
        "done": {"review": "Le début de l'examen a été envoyé à la CMR",
                 "liquidate": "La liquidation a été envoyée à la CMR avec les données de la pension",
                 "pay": "L'ordre de payer la pension a été envoyé à la CMR"},
        "confirm": {"liquidate": "Liquider la pension de {} ?", "pay": "Mettre en paiement la pension de {} ?"},
        "sent_by": "puis confirmé par la CMR", "rib": "Attestation de RIB",
        "cin": "Copie de la CIN",
        "requested": "La demande de pièces a été envoyée à la CMR : elles sont demandées à la collectivité dès que "
                     "la CMR confirme.",
        "the_cmr": "· la CMR",
        "why": "Le RIB joint est illisible ; joignez aussi une copie récente de la CIN.",
    },
    "ar": {
        "queue": "قائمة الانتظار", "filter": "تصفية",
        "transmitted": "أُرسل إلى الصندوق المغربي للتقاعد", "received": "توصل به الصندوق المغربي للتقاعد",
        "under_review": "قيد الدراسة", "documents_requested": "وثائق مطلوبة",
        "awaiting_certification": "في انتظار التصديق", "liquidated": "تمت التصفية", "in_payment": "في طور الأداء",
        "receive": "تم التوصل", "review": "بدء الدراسة", "liquidate": "التصفية", "pay": "الإحالة على الأداء",
        "reject": "الرفض", "request": "طلب وثائق",
        "asks": "يطلب الصندوق المغربي للتقاعد وثائق", "submit_supplement": "إحالة الوثائق التكميلية على التصديق",
        "done": {"review": "أُرسل بدء الدراسة إلى الصندوق", "liquidate": "أُرسلت التصفية إلى الصندوق مع معطيات المعاش",
                 "pay": "أُرسل أمر أداء المعاش إلى الصندوق"},
        "confirm": {"liquidate": "هل تريدون تصفية معاش {}؟", "pay": "هل تريدون إحالة معاش {} على الأداء؟"},
        "sent_by": "ثم أكده الصندوق", "rib": "شهادة التعريف البنكي",
        "cin": "نسخة من البطاقة الوطنية للتعريف",
        "requested": "أُرسل طلب الوثائق إلى الصندوق: تُطلب من الجماعة الترابية ما إن يؤكد الصندوق.",
        "the_cmr": "· الصندوق المغربي للتقاعد",
        "why": "شهادة التعريف البنكي المرفقة غير مقروءة؛ أرفقوا أيضا نسخة حديثة من البطاقة الوطنية.",
    },
}


def transmitted_dossier(officers, affiliate, signed_pdf):  # noqa: F811
    """Opened, filled, submitted by the agent, certified by the manager and delivered by the outbox
    (eager Celery, on commit) to the mock back office; a second, draft dossier beside it."""
    manager, agent = officers
    dossier = services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")
    fill(agent, dossier, signed_pdf)
    services.submit(agent, dossier.pk)
    services.certify(manager, dossier.pk)
    services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="early")  # stays a draft
    return Dossier.objects.get(pk=dossier.pk)


def offered(page):
    """The names of the action buttons the dossier page offers."""
    return sorted(b.get_attribute("data-testid")[len("action-"):]
                  for b in page.get_by_test_id("actions").locator("button").all())


@pytest.mark.parametrize("locale", ["fr-FR", "ar-MA"])
def test_cmr_agent_takes_the_stages_and_asks_for_documents(browser, live_server, officers, affiliate,  # noqa: F811
                                                           signed_pdf, cmr_mock_factory, settings,  # noqa: F811
                                                           tmp_path, shot, locale):
    base = live_server.url
    lang = locale[:2]
    t = TEXT[lang]
    settings.CMR_CALLBACK_SECRET = TEST_SECRET
    cmr_mock = cmr_mock_factory(callback_url=f"{base}/cmr/callbacks/")
    settings.CMR_BASE_URL = cmr_mock.base_url
    dossier = off_loop(transmitted_dossier, officers, affiliate, signed_pdf)
    assert dossier.cmr_reference.startswith("CMR-")
    wait_until(lambda: Dossier.objects.get(pk=dossier.pk).state == "received", message="no receipt callback")
    cmr = CmrAgentFactory(username="CMR00042", full_name="Nadia Cherkaoui")
    name = affiliate.full_name_ar if lang == "ar" else affiliate.full_name_fr

    # The CMR agent finds it in the queue, filtered by state.
    cmr_ctx = browser.new_context(locale=locale)
    page = login(cmr_ctx, base, cmr.username)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    page.get_by_role("link", name=t["queue"], exact=True).click()
    expect(page).to_have_url(f"{base}/dossiers/queue/")
    expect(page.get_by_test_id("dossier-row")).to_have_count(1)  # the draft beside it is the collectivity's
    page.select_option("#f-state", "received")
    page.get_by_test_id("filters").get_by_role("button", name=t["filter"]).click()
    rows = page.get_by_test_id("dossier-row")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-state", "received")
    expect(rows).to_contain_text(name)
    expect(rows).to_contain_text(t["received"])
    rows.locator("a").first.click()

    # Received (the back office said so): the agent may start the review or reject; the receipt is
    # the back office's to report, never the agent's to take.
    state = page.get_by_test_id("dossier-state")
    timeline = page.get_by_test_id("timeline")
    expect(state).to_have_text(t["received"])
    expect(page.get_by_test_id("cmr-reference")).to_have_text(dossier.cmr_reference)
    expect(timeline.locator("[data-action=transmit]")).to_contain_text(t["the_cmr"])
    expect(timeline.locator("[data-action=receive]")).to_contain_text(t["the_cmr"])
    expect(page.get_by_test_id("delivery-status")).to_have_attribute("data-status", "delivered")

    def take(action, target, fill=None):
        if fill:
            fill()
        page.get_by_test_id(f"action-{action}").click()
        if action in t["confirm"]:  # a stage that ends the dossier or decides the pension: confirmed first
            confirmation = page.get_by_test_id("confirmation")
            expect(confirmation.locator("h1")).to_have_text(t["confirm"][action].format(name))
            shot(page, f"cmr-confirm-{action}-{lang}")
            page.get_by_test_id("confirm").click()
        # sent as a command; confirmed by the back office's answer (eager, on commit) before the page shows
        expect(state).to_have_attribute("data-state", target)
        expect(state).to_have_text(t[target])
        expect(page.get_by_role("alert").filter(has_text=t["done"][action])).to_be_visible()
        newest = timeline.locator(":scope > li").first  # newest first
        expect(newest).to_have_attribute("data-action", action)
        expect(newest).to_contain_text(t[target])
        expect(newest).to_contain_text("Nadia Cherkaoui")  # the back office's stage, commanded by its agent
        expect(newest.get_by_test_id("sent-by")).to_contain_text(t["sent_by"])  # the command and its
        expect(newest.get_by_test_id("sent-by")).to_contain_text("Nadia Cherkaoui")
        expect(timeline.locator(":scope > li[data-action=stage_sent]")).to_have_count(0)  # confirmation: one line
        expect(page.get_by_test_id("pending-command")).to_have_count(0)

    assert offered(page) == ["reject", "review"]
    take("review", "under_review")
    assert offered(page) == ["liquidate", "reject"]
    expect(page.get_by_test_id("reason-reject")).to_have_attribute("required", "")
    form = page.get_by_test_id("request-documents")
    expect(form.get_by_role("heading")).to_have_text(t["request"])
    shot(page, f"cmr-under-review-{lang}")

    # It asks for two checklist items and says why, in its own words.
    form.get_by_label(t["rib"], exact=True).check()
    form.get_by_label(t["cin"], exact=True).check()
    form.locator("textarea[name=text]").fill(t["why"])
    form.get_by_role("button", name=t["request"]).click()
    expect(state).to_have_attribute("data-state", "documents_requested")
    expect(state).to_have_text(t["documents_requested"])
    expect(page.get_by_role("alert").filter(has_text=t["requested"])).to_be_visible()
    newest = timeline.locator(":scope > li").first
    expect(newest).to_have_attribute("data-action", "request_documents")
    expect(newest).to_contain_text(t["why"])
    asked = page.get_by_test_id("document-request")
    expect(asked).to_contain_text(t["asks"])
    expect(asked.locator("li")).to_have_text([t["cin"], t["rib"]])
    assert offered(page) == ["reject"]  # the collectivity has the hand
    shot(page, f"cmr-documents-requested-{lang}")
    dossier.refresh_from_db()
    request = DocumentRequest.objects.get(dossier=dossier)
    assert dossier.state == "documents_requested" and dossier.round == 2
    assert sorted(request.items.values_list("code", flat=True)) == ["cin", "rib"]
    assert request.text == t["why"] and request.requested_by == cmr and request.round == 1
    assert request.fulfilled_at is None

    # The collectivity's agent sees what is asked, in his language, and adds a signed supplement.
    agent_ctx = browser.new_context(locale=locale)
    page = login(agent_ctx, base, "CD789012")
    page.goto(f"{base}/dossiers/?state=documents_requested")
    page.get_by_test_id("dossier-row").locator("a").first.click()
    asked = page.get_by_test_id("document-request")
    expect(asked).to_contain_text(t["asks"])
    expect(asked).to_contain_text(t["rib"])
    expect(asked).to_contain_text(t["cin"])
    expect(asked).to_contain_text(t["why"])
    assert offered(page) == ["submit_supplement"]
    expect(page.get_by_test_id("action-submit_supplement")).to_have_text(t["submit_supplement"])
    for code in ["rib", "cin"]:
        path = tmp_path / f"{code}-2.pdf"
        path.write_bytes(off_loop(signed_pdf, cin="CD789012", text=f"{code} supplement {locale}"))
        line = page.get_by_test_id(f"line-{code}")
        line.locator("input[type=file]").set_input_files(str(path))
        line.locator("button[type=submit]").first.click()
        expect(page.get_by_test_id(f"line-{code}").get_by_test_id("document")).to_have_count(2)
    shot(page, f"cmr-supplement-{lang}")
    page.get_by_test_id("action-submit_supplement").click()
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", "awaiting_certification")
    expect(page.get_by_test_id("dossier-state")).to_have_text(t["awaiting_certification"])
    agent_ctx.close()

    # The manager certifies the supplement; the outbox delivers it as the second sending.
    manager_ctx = browser.new_context(locale=locale)
    page = login(manager_ctx, base, "AB123456")
    page.goto(f"{base}/dossiers/{dossier.pk}/")
    page.get_by_test_id("action-certify").click()
    page.get_by_test_id("confirm").click()  # delivered at once; the back office may already review it
    expect(page.get_by_test_id("dossier-state")).to_have_attribute("data-state", re.compile("transmitted|under_review"))
    expect(page.get_by_test_id("document-request")).to_have_count(0)
    manager_ctx.close()
    second = Transmission.objects.get(dossier=dossier, round=2)
    assert second.status == "delivered" and second.cmr_reference != dossier.cmr_reference
    assert cmr_mock.stats()["supplements_received"] == 1
    assert DocumentRequest.objects.get(dossier=dossier).fulfilled_at is not None

    # The back office takes the review up again by itself when the supplement arrives (its callback);
    # the CMR agent liquidates, with the pension's figures, and puts the pension in payment.
    wait_until(lambda: Dossier.objects.get(pk=dossier.pk).state == "under_review", message="no review callback")
    page = cmr_ctx.pages[0]
    page.reload()
    state = page.get_by_test_id("dossier-state")
    timeline = page.get_by_test_id("timeline")
    expect(state).to_have_text(t["under_review"])

    def figures():
        page.get_by_test_id("pension-number").fill("P000778899")
        page.get_by_test_id("pension-monthly").fill("4512.30")
        page.get_by_test_id("pension-effective").fill("2027-01-01")

    take("liquidate", "liquidated", figures)
    expect(page.get_by_test_id("liquidation")).to_contain_text("P000778899")
    expect(page.get_by_test_id("monthly-pension")).to_contain_text(re.compile(r"4[\s.]512,30"))  # grouped
    assert offered(page) == ["pay"]
    expect(page.get_by_test_id("request-documents")).to_have_count(0)
    take("pay", "in_payment")
    expect(page.get_by_test_id("actions")).to_have_count(0)
    expect(page.get_by_test_id("observe")).to_have_count(0)  # closed
    shot(page, f"cmr-in-payment-{lang}")
    cmr_ctx.close()

    dossier.refresh_from_db()
    assert dossier.state == "in_payment" and dossier.round == 2
    assert list(dossier.events.filter(actor=cmr).values_list("action", "data__stage")) == [
        ("stage_sent", "under_review"), ("stage_sent", "documents_requested"), ("stage_sent", "liquidated"),
        ("stage_sent", "in_payment")]  # what the agent asked; the stages themselves are the back office's
    stages = list(dossier.events.filter(actor=None).exclude(cmr_event_id="").values_list("action", "to_state"))
    assert stages == [("receive", "received"), ("review", "under_review"),
                      ("request_documents", "documents_requested"), ("review", "under_review"),
                      ("liquidate", "liquidated"), ("pay", "in_payment")]
    assert dossier.pension_number == "P000778899"
    back_office = cmr_mock.get(f"/dossiers/{dossier.cmr_reference}/stages").json()
    assert back_office["stage"] == "in_payment"  # the two records agree
    assert list(dossier.events.filter(action="transmit").values_list("data__round", flat=True)) == [1, 2]
