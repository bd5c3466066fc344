"""Each hostile input the fuzz found, refused with a clear answer in the reader's language and nothing
written (test_fuzz tries them everywhere; here each answer is read)."""

from datetime import date

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from dossiers import services
from dossiers.models import Event
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.factories import AgentFactory, ManagerFactory, ProvincialOfficeFactory, commune
from tests.pki import pki, pki_settings  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(pki_settings):  # noqa: F811
    agent = AgentFactory(can_prepare_dossiers=True)
    affiliate = with_career(AffiliateFactory(birth_date=date(1964, 3, 14)))
    return agent, services.open_dossier(agent, affiliate_id=affiliate.pk, kind_code="age_limit")


@pytest.mark.parametrize("language, words", [("fr", "caractère NUL"), ("ar", "NUL")])
def test_a_nul_character_is_a_400_page_in_the_readers_language(client, language, words):
    client.force_login(ManagerFactory())
    answer = client.get(reverse("affiliates:search"), {"q": "AB\x00"}, HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'data-testid="error-message"' in page and words in page
    if language == "ar":
        assert 'dir="rtl"' in page and "تعذر فهم الطلب" in page


def test_a_nul_character_in_a_form_or_an_api_filter_is_refused_before_the_database(client, draft):
    agent, dossier = draft
    client.force_login(agent)
    answer = client.post(reverse("dossiers:observe", args=[dossier.pk]), {"text": "vu\x00"})
    assert answer.status_code == 400
    assert not Event.objects.filter(dossier=dossier, action="observation").exists()
    answer = client.get("/api/v1/dossiers/", {"kind": "age\x00"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 400 and "NUL" in answer.json()["detail"]


def test_json_nested_too_deep_is_a_400(client, draft):
    agent, dossier = draft
    client.force_login(agent)
    answer = client.post(f"/api/v1/dossiers/{dossier.pk}/submit/", "[" * 50000 + "]" * 50000,
                         content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 400
    assert "imbriqué" in answer.json()["detail"]


def test_a_login_longer_than_any_account_is_a_form_error_not_a_lockout_record(client):
    answer = client.post(reverse("login"), {"username": "A" * 5000, "password": "x"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 200
    assert "au plus 150 caractères" in answer.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("on", ["1800-01-01", "0001-01-01", "9999-12-31", "2026-02-30", "demain"])
def test_a_date_the_law_table_cannot_answer_for_is_refused_on_the_page_and_in_the_api(client, on):
    manager = ManagerFactory()
    affiliate = with_career(AffiliateFactory(birth_date=date(1964, 3, 14)))
    client.force_login(manager)
    page = client.get(reverse("affiliates:situation", args=[affiliate.pk]), {"on": on}, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    text = page.content.decode()
    # The dates it can answer for, as the page's language writes them (French here).
    assert 'data-testid="on-error"' in text and "1 janvier 1972" in text and "31 décembre 2100" in text
    api = client.get(f"/api/v1/affiliates/{affiliate.pk}/eligibility/", {"on": on}, HTTP_ACCEPT_LANGUAGE="ar")
    assert api.status_code == 400 and "1972" in api.json()["on"][0] and "2100" in api.json()["on"][0]
    # the limits themselves are dates the table answers for
    assert client.get(f"/api/v1/affiliates/{affiliate.pk}/eligibility/", {"on": "1972-01-01"}).status_code == 200


def test_a_text_too_long_is_refused_whole_never_cut(client, draft):
    agent, dossier = draft
    client.force_login(agent)
    answer = client.post(reverse("dossiers:observe", args=[dossier.pk]), {"text": "é" * 4001}, follow=True,
                         HTTP_ACCEPT_LANGUAGE="fr")
    assert "au plus 4000 caractères" in answer.content.decode()
    assert not Event.objects.filter(dossier=dossier, action="observation").exists()
    with pytest.raises(services.DossierError) as refusal:
        services.add_observation(agent, dossier.pk, "x" * 4001)
    assert refusal.value.code == "too_long"
    services.add_observation(agent, dossier.pk, "x" * 4000)
    assert len(Event.objects.get(dossier=dossier, action="observation").text) == 4000


@pytest.mark.parametrize("value", ["abc", "1e3", "²", "-1", "99999999999999999999999"])
def test_act_for_a_commune_that_is_not_an_id_is_404(client, value):
    office = ProvincialOfficeFactory()
    client.force_login(office)
    assert client.post(reverse("act_for"), {"collectivity": value}).status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "https:/\\evil.example",
                                    "javascript:alert(1)"])
def test_next_never_leaves_the_site(client, target):
    office = ProvincialOfficeFactory()
    client.force_login(office)
    answer = client.post(reverse("act_for"), {"collectivity": commune().pk, "next": target})
    assert answer.status_code == 302 and answer["Location"] == reverse("home")
    answer = client.post(reverse("act_for"), {"collectivity": commune().pk, "next": "/dossiers/?state=draft"})
    assert answer["Location"] == "/dossiers/?state=draft"


@pytest.mark.parametrize("language, title", [("fr", "Page introuvable"), ("ar", "الصفحة غير موجودة")])
def test_404_and_403_pages_speak_the_readers_language_with_the_navigation(client, language, title):
    client.force_login(AgentFactory())
    page = client.get("/dossiers/999999999/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 404
    text = page.content.decode()
    assert title in text and 'data-status="404"' in text and reverse("home") in text
    forbidden = client.get(reverse("team"), HTTP_ACCEPT_LANGUAGE=language)
    assert forbidden.status_code == 403 and 'data-status="403"' in forbidden.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_api_errors_have_one_shape_in_the_callers_language(lang):
    from rest_framework.test import APIClient

    from tests.factories import ManagerFactory, api_client_for

    anonymous = APIClient().get("/api/v1/affiliates/", {"q": "x"}, HTTP_ACCEPT_LANGUAGE=lang)
    manager = ManagerFactory()
    reader = api_client_for(manager, scope="read")
    answers = {
        "unauthenticated": anonymous,
        "invalid": reader.get("/api/v1/affiliates/", {"q": "x" * 300}, HTTP_ACCEPT_LANGUAGE=lang),
        "not_found": reader.get("/api/v1/dossiers/999999999/", HTTP_ACCEPT_LANGUAGE=lang),
        "read_only": reader.post("/api/v1/dossiers/", {"affiliate": 1, "kind": "age_limit"}, format="json",
                                 HTTP_ACCEPT_LANGUAGE=lang),
        "nul": reader.get("/api/v1/affiliates/", {"q": "a\x00b"}, HTTP_ACCEPT_LANGUAGE=lang),
        "refused": api_client_for(manager).post("/api/v1/dossiers/", {"affiliate": 999999, "kind": "age_limit"},
                                                format="json", HTTP_ACCEPT_LANGUAGE=lang),
    }
    for name, answer in answers.items():
        assert 400 <= answer.status_code < 500, name
        body = answer.json()
        assert {"code", "detail", "reasons"} <= set(body), (name, body)
        assert body["detail"] == body["reasons"][0] and isinstance(body["code"], str), name
    assert "q" in answers["invalid"].json()["fields"] and answers["invalid"].json()["q"]
    if lang == "ar":  # every message of the answers in Arabic letters
        for name, answer in answers.items():
            assert any("\u0600" <= ch <= "\u06ff" for ch in answer.json()["detail"]), (name, answer.json())
