"""Support requests (issue 15, item 6): an officer writes from the page he was on (and the dossier, if he
came from one); the CMR's and the DGCT's staff see every request, answer it; the asker reads the answer
on his list and is e-mailed. Each bad input is refused with its message, and nothing is written."""

import re
from html import unescape

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from accounts.models import AuditEvent
from support import services
from support.models import SupportRequest
from tests.factories import AgentFactory, ProvincialOfficeFactory, other_commune

from .conftest import make_dossier

pytestmark = pytest.mark.django_db


def said(msgid, language="fr", **params):
    """A message as the reader sees it in ``language`` (the catalogue's text once it is merged)."""
    with translation.override(language):
        text = gettext(msgid)
    return escape(text % params if params else text)


def ask(client, **data):
    return client.post(reverse("support:ask"), {"subject": "Upload refused", "message": "The PDF is refused.",
                                                **data})


def written(user, **kw):
    values = {"subject": "Question", "message": "How do I certify?", **kw}
    return services.open_request(user, **values)


# --- writing ---------------------------------------------------------------------------------------

def test_an_officer_writes_from_a_dossier_page_and_reads_his_request(client, manager, dossier,
                                                                     django_capture_on_commit_callbacks):
    client.force_login(manager)
    detail = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    link = re.search(r'href="([^"]+)" data-testid="ask-about-dossier"', detail).group(1).replace("&amp;", "&")
    assert link == f"/help/ask/?dossier={dossier.pk}&from=/dossiers/{dossier.pk}/"
    form = client.get(link).content.decode()
    assert f'name="page" value="/dossiers/{dossier.pk}/"' in form and f'name="dossier" value="{dossier.pk}"' in form
    assert dossier.short_reference in form and 'data-testid="about-dossier"' in form
    with django_capture_on_commit_callbacks(execute=True):
        answer = ask(client, page=f"/dossiers/{dossier.pk}/", dossier=dossier.pk)
    item = SupportRequest.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("support:request", args=[item.pk])
    assert (item.asked_by, item.collectivity, item.dossier, item.page, item.status) == (
        manager, manager.collectivity, dossier, f"/dossiers/{dossier.pk}/", "open")
    event = AuditEvent.objects.get(action="support.request_opened")
    assert event.actor == manager and event.target_id == str(item.pk) and event.data["dossier"] == dossier.pk
    page = client.get(answer["Location"]).content.decode()
    assert "Upload refused" in page and 'data-status="open"' in page and f"/dossiers/{dossier.pk}/" in page
    assert mail.outbox == []  # no support desk mailbox configured: nobody to e-mail


def test_the_support_desk_mailbox_is_told_of_a_new_request(client, manager, settings,
                                                           django_capture_on_commit_callbacks):
    settings.SUPPORT_NOTIFY_EMAILS = ["desk@cmr.ma"]
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        ask(client)
    assert [m.to for m in mail.outbox] == [["desk@cmr.ma"]]
    assert "The PDF is refused." in mail.outbox[0].body and "/help/requests/" in mail.outbox[0].body


def test_the_query_string_of_the_page_is_not_kept(manager):
    """A search's query may hold a name or a CIN: only the page's path is kept."""
    assert written(manager, page="/affiliates/?q=AB123456").page == "/affiliates/"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_empty_message_or_subject_is_refused_with_its_message(client, manager, language):
    client.force_login(manager)
    answer = client.post(reverse("support:ask"), {"subject": "  ", "message": "\n "}, HTTP_ACCEPT_LANGUAGE=language)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert said("Write your question or describe the difficulty.", language) in html
    assert said("Give your request a subject.", language) in html
    assert not SupportRequest.objects.exists() and not AuditEvent.objects.filter(action__startswith="support").exists()


@pytest.mark.parametrize("field, size, limit", [("subject", 201, 200), ("message", 4001, 4000)])
def test_an_over_long_field_is_refused_whole(client, manager, field, size, limit):
    client.force_login(manager)
    answer = ask(client, **{field: "é" * size})
    assert answer.status_code == 200
    assert said("The text is too long: at most %(max)d characters (it has %(n)d).", max=limit, n=size) in \
        answer.content.decode()
    assert "é" * size in answer.content.decode()  # what was typed is kept in the form, to shorten it
    assert not SupportRequest.objects.exists()
    assert written(manager, **{field: "é" * limit}).pk  # at the limit, it is accepted


def test_a_dossier_of_another_commune_is_answered_as_one_that_does_not_exist(client, manager, foreign_dossier):
    client.force_login(manager)
    refusals = []
    for value in (foreign_dossier.pk, 999_999_999, "99999999999999999999", "abc"):
        answer = ask(client, dossier=value)
        html = answer.content.decode()
        assert answer.status_code == 200 and said(
            "This dossier does not exist. To ask about a dossier, use the help link on its page.") in html
        assert foreign_dossier.short_reference not in html and "Zerhouni" not in html
        refusals.append(re.search(r'data-testid="dossier-error">([^<]*)<', html).group(1))
    assert len(set(refusals)) == 1  # the same words, whether it exists elsewhere or not at all
    assert '<input type="hidden" name="dossier" id="id_dossier">' in html  # not carried on
    assert not SupportRequest.objects.exists()
    # nor is it shown when the form is opened with it
    form = client.get(reverse("support:ask"), {"dossier": foreign_dossier.pk}).content.decode()
    assert 'data-testid="about-dossier"' not in form and foreign_dossier.short_reference not in form
    assert f'value="{foreign_dossier.pk}"' not in form


def test_an_agent_who_sees_no_dossier_may_not_attach_one(client, dossier):
    reader = AgentFactory(can_consult_affiliates=True, can_prepare_dossiers=False, can_certify_dossiers=False)
    with pytest.raises(services.SupportError) as refusal:
        written(reader, dossier_id=dossier.pk)
    assert set(refusal.value.errors) == {"dossier"}
    assert written(reader).pk  # his question alone is welcome


def test_a_provincial_office_attaches_a_dossier_of_a_commune_of_its_province(dossier, foreign_dossier):
    office = ProvincialOfficeFactory()
    assert written(office, dossier_id=dossier.pk).dossier == dossier
    with pytest.raises(services.SupportError):
        written(office, dossier_id=foreign_dossier.pk)


@pytest.mark.parametrize("page", ["https://evil.example/dossiers/", "http://testserver.evil.example/",
                                  "//evil.example/x", "javascript:alert(1)", "/\\evil.example", "dossiers/",
                                  "/no/such/page/"])
def test_a_page_of_another_site_is_refused(client, manager, page):
    client.force_login(manager)
    answer = ask(client, page=page)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert said("The page must be a page of this site (an address starting with “/”), not another site's.") in html
    assert not SupportRequest.objects.exists()
    # the refused address is not carried on: sent again as it stands, the question goes without it
    assert '<input type="hidden" name="page" id="id_page">' in html and 'value="Upload refused"' in html
    assert ask(client, page="").status_code == 302 and SupportRequest.objects.get().page == ""


def test_a_visitor_logged_out_cannot_write(client):
    answer = ask(client)
    assert answer.status_code == 302 and reverse("login") in answer["Location"]
    assert not SupportRequest.objects.exists()


# --- who sees what ---------------------------------------------------------------------------------

def test_the_asker_and_his_collectivity_see_it_others_do_not(client, manager, colleague, stranger, cmr, dgct):
    item = written(manager, subject="Certification blocked")
    own = written(stranger, subject="Fès question")
    for account, sees in ((manager, True), (colleague, True), (stranger, False), (cmr, True), (dgct, True)):
        client.force_login(account)
        status = client.get(reverse("support:request", args=[item.pk])).status_code
        listed = client.get(reverse("support:requests"), {"status": "all"}).content.decode()
        assert (status == 200) == sees and (status == 404) == (not sees), account.role
        assert ("Certification blocked" in listed) == sees
        assert ("Fès question" in listed) == (account in (stranger, cmr, dgct))
    assert own.collectivity == other_commune()


def test_the_list_filters_by_status_and_starts_with_the_open_ones_for_those_who_answer(client, manager, cmr):
    opened = written(manager, subject="Still open")
    answered = written(manager, subject="Answered one")
    services.answer_request(cmr, answered.pk, answer="Done.")
    closed = written(manager, subject="Closed one")
    services.close_request(manager, closed.pk)

    def rows(account, **params):
        client.force_login(account)
        html = client.get(reverse("support:requests"), params).content.decode()
        return {int(pk) for pk in re.findall(r'data-testid="request-row" data-pk="(\d+)"', html)}

    assert rows(cmr) == {opened.pk}
    assert rows(cmr, status="answered") == {answered.pk} and rows(cmr, status="closed") == {closed.pk}
    assert rows(cmr, status="all") == rows(cmr, status="nonsense") == {opened.pk, answered.pk, closed.pk}
    assert rows(manager) == {opened.pk, answered.pk, closed.pk}  # the asker sees all of his at first


@pytest.mark.parametrize("n", [1, 30])
def test_the_list_costs_the_same_queries_whatever_its_rows(client, cmr, n, django_assert_num_queries):
    askers = [AgentFactory(can_prepare_dossiers=True), ProvincialOfficeFactory()]
    for i in range(n):
        item = written(askers[i % 2], dossier_id=make_dossier().pk if i % 2 == 0 else None)
        if i % 3 == 0:
            services.answer_request(cmr, item.pk, answer="Voici.")
    client.force_login(cmr)
    # session, user, second factor's device, the count, the page's rows with their asker, collectivity,
    # dossier and answerer
    with django_assert_num_queries(5):
        answer = client.get(reverse("support:requests"), {"status": "all"})
    assert answer.content.count(b'data-testid="request-row"') == min(n, 25)


def test_the_list_paginates(client, cmr, manager):
    for _ in range(27):
        written(manager)
    client.force_login(cmr)
    first = client.get(reverse("support:requests")).content.decode()
    second = client.get(reverse("support:requests"), {"status": "open", "page": 2}).content.decode()
    assert first.count('data-testid="request-row"') == 25 and second.count('data-testid="request-row"') == 2
    assert "status=open&amp;page=2" in first


def test_empty_lists_say_what_to_do_next(client, manager, cmr):
    client.force_login(manager)
    html = client.get(reverse("support:requests")).content.decode()
    assert 'data-testid="empty"' in html and f'href="{reverse("support:ask")}"' in html
    client.force_login(cmr)
    html = client.get(reverse("support:requests")).content.decode()
    assert 'data-testid="empty"' in html
    # A {% translate %} text is written as it is (an apostrophe unescaped): compared as the reader reads it.
    assert unescape(said("No request awaits an answer. New requests appear here as the collectivities write them; "
                         "the other tabs keep the answered and closed ones.")) in unescape(html)


# --- answering -------------------------------------------------------------------------------------

def test_the_cmr_answers_and_the_asker_reads_it_and_is_emailed(client, manager, colleague, cmr,
                                                               django_capture_on_commit_callbacks):
    item = written(manager, subject="Token not recognised")
    client.force_login(cmr)
    page = client.get(reverse("support:request", args=[item.pk])).content.decode()
    assert 'data-testid="answer-form"' in page
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("support:answer", args=[item.pk]), {"answer": "Install the driver first."})
    assert answer.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.answer, item.answered_by) == ("answered", "Install the driver first.", cmr)
    assert AuditEvent.objects.filter(action="support.request_answered", actor=cmr, target_id=str(item.pk)).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["amina@tanger.ma"]
    body = mail.outbox[0].body
    assert "Install the driver first." in body and f"/help/requests/{item.pk}/" in body
    assert "Token not recognised" in body and "Nadia Support" in body
    for reader in (manager, colleague):  # on his list, and his collectivity's
        client.force_login(reader)
        listed = client.get(reverse("support:requests")).content.decode()
        assert 'data-testid="answer-preview"' in listed and "Install the driver first." in listed
    assert b'data-testid="answer-form"' not in client.get(reverse("support:request", args=[item.pk])).content


def test_the_dgct_answers_too(manager, dgct):
    item = services.answer_request(dgct, written(manager).pk, answer="The designation was sent to the CMR.")
    assert item.status == "answered" and item.answered_by == dgct


def test_answering_without_the_capability_is_403(client, manager, colleague):
    item = written(manager)
    for account in (manager, colleague):
        client.force_login(account)
        assert client.post(reverse("support:answer", args=[item.pk]), {"answer": "Myself."}).status_code == 403
        assert b'data-testid="answer-form"' not in client.get(reverse("support:request", args=[item.pk])).content
    with pytest.raises(services.PermissionDenied):
        services.answer_request(manager, item.pk, answer="Myself.")
    item.refresh_from_db()
    assert item.status == "open" and item.answer == ""


def test_answering_a_closed_request_is_refused(client, manager, cmr):
    item = written(manager)
    services.close_request(manager, item.pk)
    client.force_login(cmr)
    answer = client.post(reverse("support:answer", args=[item.pk]), {"answer": "Too late?"}, follow=True)
    assert said("This request is closed: it can no longer be answered.") in answer.content.decode()
    item.refresh_from_db()
    assert item.status == "closed" and item.answer == "" and item.answered_by is None
    assert not AuditEvent.objects.filter(action="support.request_answered").exists()


def test_answering_twice_is_refused_and_keeps_the_first_answer(manager, cmr, dgct):
    item = written(manager)
    services.answer_request(cmr, item.pk, answer="First.")
    with pytest.raises(services.SupportError) as refusal:
        services.answer_request(dgct, item.pk, answer="Second.")
    assert str(refusal.value.errors["status"]) == gettext("This request was already answered.")
    item.refresh_from_db()
    assert (item.answer, item.answered_by) == ("First.", cmr)


@pytest.mark.parametrize("text, msgid", [
    ("   ", "Write the answer."),
    ("x" * 4001, "The text is too long: at most %(max)d characters (it has %(n)d)."),
])
def test_an_empty_or_over_long_answer_is_refused_and_kept_in_the_form(client, manager, cmr, text, msgid):
    item = written(manager)
    client.force_login(cmr)
    answer = client.post(reverse("support:answer", args=[item.pk]), {"answer": text})
    html = answer.content.decode()
    assert answer.status_code == 400
    assert (said(msgid, max=4000, n=4001) if "%" in msgid else said(msgid)) in html
    item.refresh_from_db()
    assert item.status == "open" and item.answer == ""


def test_a_request_outside_the_scope_cannot_be_answered_or_closed(client, stranger, manager):
    item = written(manager)
    client.force_login(stranger)
    assert client.post(reverse("support:close", args=[item.pk])).status_code == 404
    item.refresh_from_db()
    assert item.status == "open"


# --- closing ---------------------------------------------------------------------------------------

def test_the_asker_closes_his_own_request_not_his_colleagues(client, manager, colleague):
    item = written(manager)
    client.force_login(colleague)
    assert b'data-testid="close-form"' not in client.get(reverse("support:request", args=[item.pk])).content
    assert client.post(reverse("support:close", args=[item.pk])).status_code == 403
    client.force_login(manager)
    assert client.post(reverse("support:close", args=[item.pk])).status_code == 302
    item.refresh_from_db()
    assert item.status == "closed" and item.closed_at is not None
    assert AuditEvent.objects.filter(action="support.request_closed", actor=manager).exists()
    again = client.post(reverse("support:close", args=[item.pk]), follow=True)
    assert said("This request is already closed.") in again.content.decode()
