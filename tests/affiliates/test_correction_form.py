"""The correction form as an officer uses it: inputs of each value's kind with the registry's value
beside them, in the page's language; corrections of service periods and salary records decided and
applied like a field's; the supporting PDF kept when the form is refused; the officers' own list."""

import hashlib
import os
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from affiliates import services, tasks
from affiliates.models import (
    CorrectionRequest,
    FieldChange,
    KeptDocument,
    SalaryRecord,
    ServicePeriod,
)
from tests.affiliates.factories import AffiliateFactory, with_career
from tests.factories import AgentFactory, CmrAgentFactory, ManagerFactory, other_commune
from tests.pki import pki, pki_settings, sample_pdf, signed_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

SIGNED = {}
NEW_URL = "affiliates:correction_new"


@pytest.fixture(autouse=True)
def signed_proof(pki_settings, signed_pdf):  # noqa: F811
    AgentFactory(username="AB123456", cin="AB123456")
    SIGNED["pdf"] = signed_pdf(cin="AB123456", text="Arrêté de détachement")


def pdf(name="arrete.pdf", data=None):
    return SimpleUploadedFile(name, SIGNED["pdf"] if data is None else data, content_type="application/pdf")


@pytest.fixture
def person():
    """An affiliate with two periods (the second running) and two salary records."""
    return with_career(
        AffiliateFactory(),
        (date(2000, 1, 1), date(2009, 12, 31), "effective"),
        (date(2012, 1, 1), None, "effective"),
        salaries=[(date(2000, 1, 1), "6000.00"), (date(2012, 1, 1), "9000.00")],
        family=False,
    )


def periods(a):
    return list(a.periods.order_by("start"))


def salaries(a):
    return list(a.salaries.order_by("start"))


def form_url(a, target=None):
    url = reverse(NEW_URL, args=[a.pk])
    return f"{url}?target={target}" if target else url


def post(client, a, target, **values):
    data = {"target": target, "reason": "L'arrêté dit autre chose.", "document": pdf(), **values}
    return client.post(reverse(NEW_URL, args=[a.pk]), {k: v for k, v in data.items() if v is not None})


def nothing_written():
    return (not CorrectionRequest.objects.exists()
            and not AuditEvent.objects.filter(action__startswith="affiliate.correction").exists())


def ar(text, day):
    """An Arabic message naming ``day``, written as Arabic pages write dates (read when the test runs)."""
    def render():
        with translation.override("ar"):
            return text % date_format(day)
    return render


def expected(message):
    return message() if callable(message) else message


def errors(response):
    form = response.context["form"]
    return {k: " ".join(str(m) for m in v) for k, v in form.errors.items()}


# --- 1. inputs of their kind, the registry's value beside them, in the page's language ---


@pytest.mark.parametrize(("language", "current", "male", "female"), [
    ("fr", "14 mars 1975", "Masculin", "Féminin"),
    ("ar", ar("%s", date(1975, 3, 14)), "ذكر", "أنثى"),
])
def test_dates_are_picked_and_codes_chosen_in_the_pages_language(client, person, language, current, male,
                                                                 female):
    current = expected(current)
    client.force_login(ManagerFactory())
    client.cookies["django_language"] = language
    page = client.get(form_url(person, "birth_date"))
    body = page.content.decode()
    assert '<input type="date" name="proposed_value" value="1975-03-14"' in body  # the browser's picker
    assert page.context["form"].fields["proposed_value"].current == current  # beside it, as written here
    assert f'data-testid="current-proposed_value">{current}<' in body
    sex = client.get(form_url(person, "sex"))
    body = sex.content.decode()
    assert '<select name="proposed_value"' in body
    assert f'<option value="M">{male}</option>' in body and f'<option value="F" selected>{female}</option>' in body
    assert f'data-testid="current-proposed_value">{female}<' in body
    period = client.get(form_url(person, f"service_period:{periods(person)[1].pk}")).content.decode()
    assert '<input type="date" name="start" value="2012-01-01"' in period and '<select name="kind"' in period
    assert ('data-testid="current-end">en cours<' if language == "fr" else 'data-testid="current-end">جارية<') \
        in period


def test_the_choice_of_what_to_correct_lists_fields_periods_and_salaries(client, person):
    client.force_login(ManagerFactory())
    body = client.get(form_url(person)).content.decode()
    assert "Date de naissance — 14 mars 1975" in body
    assert f'value="service_period:{periods(person)[0].pk}"' in body and 'value="service_period:new"' in body
    assert f'value="salary:{salaries(person)[1].pk}"' in body and 'value="salary:new"' in body
    assert "Services effectifs du 1 janvier 2000 au 31 décembre 2009" in body
    assert 'data-testid="correction-form"' not in body  # nothing to fill before choosing


def test_a_sex_correction_is_sent_as_chosen_and_shown_translated(client, person):
    client.force_login(ManagerFactory())
    assert post(client, person, "sex", proposed_value="M").status_code == 302
    c = CorrectionRequest.objects.get()
    assert (c.current_value, c.proposed_value) == ("F", "M")
    client.cookies["django_language"] = "ar"
    body = client.get(reverse("affiliates:correction", args=[c.pk])).content.decode()
    assert 'data-testid="current-value">أنثى<' in body and 'data-testid="proposed-value">ذكر<' in body


# --- 2. service periods and salary records ---


def test_a_period_is_corrected_and_the_cmr_applies_it(client, person):
    first = periods(person)[0]
    client.force_login(ManagerFactory())
    response = post(client, person, f"service_period:{first.pk}", start="2000-01-01", end="2010-12-31",
                    kind="secondment")
    c = CorrectionRequest.objects.get()
    assert response.status_code == 302 and (c.field, c.record_id) == ("service_period", first.pk)
    assert c.proposed_shown == "Détachement du 1 janvier 2000 au 31 décembre 2010"
    assert c.current_shown == "Services effectifs du 1 janvier 2000 au 31 décembre 2009"
    # The CMR finds it in its queue, reads it as the officer does, and accepts it.
    client.force_login(CmrAgentFactory())
    queue = client.get(reverse("affiliates:corrections")).content.decode()
    assert "Détachement du 1 janvier 2000 au 31 décembre 2010" in queue
    client.post(reverse("affiliates:correction_decide", args=[c.pk]), {"decision": "accept"})
    first.refresh_from_db()
    assert (first.start, first.end, first.kind) == (date(2000, 1, 1), date(2010, 12, 31), "secondment")
    change = FieldChange.objects.get()
    assert (change.field, change.record_id, change.correction_id) == ("service_period", first.pk, c.pk)
    assert change.old_shown == "Services effectifs du 1 janvier 2000 au 31 décembre 2009"
    assert ServicePeriod.objects.filter(affiliate=person).count() == 2
    # The situation page's history says it as the officer reads dates.
    client.force_login(CorrectionRequest.objects.get().requested_by)
    body = client.get(reverse("affiliates:situation", args=[person.pk])).content.decode()
    assert "Période de service: Services effectifs du 1 janvier 2000 au 31 décembre 2009 → Détachement" in body


def test_a_missing_period_is_proposed_and_added_on_acceptance(client, person):
    client.force_login(ManagerFactory())
    assert post(client, person, "service_period:new", start="2010-01-01", end="2011-12-31",
                kind="unpaid_leave").status_code == 302
    c = CorrectionRequest.objects.get()
    assert (c.record_id, c.current_value, c.is_addition) == (None, "", True)
    services.accept_correction(CmrAgentFactory(), c.pk)
    c.refresh_from_db()
    added = ServicePeriod.objects.get(affiliate=person, start=date(2010, 1, 1))
    assert (added.end, added.kind, c.record_id, c.status) == (date(2011, 12, 31), "unpaid_leave", added.pk, "accepted")
    assert FieldChange.objects.get().record_id == added.pk


def test_a_salary_is_corrected_and_a_missing_one_added(client, person):
    old = salaries(person)[1]
    client.force_login(ManagerFactory())
    assert post(client, person, f"salary:{old.pk}", start="2012-01-01", monthly_salary="9450.50", scale="11",
                step="6").status_code == 302
    assert post(client, person, "salary:new", start="2016-07-01", monthly_salary="10200", scale="11",
                step="7").status_code == 302
    change, addition = CorrectionRequest.objects.order_by("id")
    assert (change.record_id, addition.record_id) == (old.pk, None)
    cmr = CmrAgentFactory()
    services.accept_correction(cmr, change.pk)
    services.accept_correction(cmr, addition.pk)
    old.refresh_from_db()
    assert (old.monthly_salary, old.step) == (Decimal("9450.50"), 6)
    new = SalaryRecord.objects.get(affiliate=person, start=date(2016, 7, 1))
    assert (new.monthly_salary, new.scale, new.step) == (Decimal("10200.00"), 11, 7)
    assert SalaryRecord.objects.filter(affiliate=person).count() == 3


def test_the_salary_is_written_as_the_reader_writes_amounts(client, person):
    client.force_login(ManagerFactory())
    post(client, person, "salary:new", start="2016-07-01", monthly_salary="10200", scale="11", step="7")
    c = CorrectionRequest.objects.get()
    shown = c.proposed_shown
    assert "10" in shown and "200,00 DH" in shown and "1 juillet 2016" in shown and "échelon 7" in shown


FUTURE = (date.today() + timedelta(days=40)).isoformat()


@pytest.mark.parametrize(("values", "field", "french", "arabic"), [
    ({"start": "2005-01-01", "end": "2004-12-31"}, "end",
     "La période doit se terminer après son début (1 janvier 2005).",
     ar("يجب أن تنتهي الفترة بعد تاريخ بدايتها (%s).", date(2005, 1, 1))),
    ({"start": "", "end": "2004-12-31"}, "start", "La date manque.", "التاريخ غير مدخل."),
    ({"start": "2005-02-30"}, "start", "Ce n'est pas une date", "هذا ليس تاريخا صحيحا"),
    ({"start": FUTURE, "end": ""}, "start", "Une période ne peut pas commencer dans le futur.",
     "لا يمكن أن تبدأ فترة في المستقبل."),
    ({"start": "1970-01-01", "end": "1971-01-01"}, "start",
     "La date doit être postérieure à la date de naissance de l'affilié (14 mars 1975).",
     ar("يجب أن يكون التاريخ لاحقا لتاريخ ازدياد المنخرط (%s).", date(1975, 3, 14))),
    ({"end": "2101-01-01"}, "end", "La date ne peut pas être postérieure au 31 décembre 2100.",
     ar("لا يمكن أن يكون التاريخ لاحقا لـ %s.", date(2100, 12, 31))),
    ({"kind": "holiday"}, "kind", "Sélectionnez un choix valide", "انتق خياراً صحيحاً"),
    ({"kind": ""}, "kind", "Ce champ est obligatoire", "هذا الحقل مطلوب"),
])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_bad_period_values_are_refused_with_a_clear_message(client, person, values, field, french, arabic,
                                                            language):
    client.force_login(ManagerFactory())
    client.cookies["django_language"] = language
    data = {"start": "2010-01-01", "end": "2011-06-30", "kind": "effective", **values}
    response = post(client, person, "service_period:new", **data)
    assert response.status_code == 200 and expected(french if language == "fr" else arabic) in errors(response)[field]
    assert nothing_written() and ServicePeriod.objects.filter(affiliate=person).count() == 2


def test_an_overlapping_period_is_refused_before_the_database_does(client, person):
    client.force_login(ManagerFactory())
    # A new period over the running one (no end: it runs on), then a change of the first over the second.
    response = post(client, person, "service_period:new", start="2015-01-01", end="2015-12-31", kind="effective")
    assert response.status_code == 200
    assert ("chevauchent une autre période de cet affilié (Services effectifs depuis le 1 janvier 2012, en cours)"
            in errors(response)["__all__"])
    first = periods(person)[0]
    response = post(client, person, f"service_period:{first.pk}", start="2000-01-01", end="2012-01-01",
                    kind="effective")  # the last day of one is the first of the other: both ends included
    assert "chevauchent une autre période" in errors(response)["__all__"]
    assert nothing_written()
    # Adjacent is not overlapping: the day after the end.
    assert post(client, person, "service_period:new", start="2010-01-01", end="2011-12-31",
                kind="effective").status_code == 302


def test_an_overlap_arising_between_two_pending_additions_is_refused_at_acceptance(client, person):
    client.force_login(ManagerFactory())
    post(client, person, "service_period:new", start="2010-01-01", end="2010-12-31", kind="effective")
    post(client, person, "service_period:new", start="2010-06-01", end="2011-06-30", kind="secondment")
    one, two = CorrectionRequest.objects.order_by("id")
    cmr = CmrAgentFactory()
    services.accept_correction(cmr, one.pk)
    client.force_login(cmr)
    client.cookies["django_language"] = "ar"
    response = client.post(reverse("affiliates:correction_decide", args=[two.pk]), {"decision": "accept"},
                           follow=True)
    assert "تتداخل هذه التواريخ مع فترة أخرى لهذا المنخرط" in response.content.decode()
    two.refresh_from_db()
    assert two.status == "pending" and ServicePeriod.objects.filter(affiliate=person).count() == 3
    assert FieldChange.objects.count() == 1


@pytest.mark.parametrize(("values", "field", "french", "arabic"), [
    ({"monthly_salary": "-500"}, "monthly_salary", "Le traitement doit être un montant positif.",
     "يجب أن يكون الأجر مبلغا موجبا."),
    ({"monthly_salary": "0"}, "monthly_salary", "Le traitement doit être un montant positif.",
     "يجب أن يكون الأجر مبلغا موجبا."),
    ({"monthly_salary": "2500000"}, "monthly_salary", "Un traitement mensuel compris entre 100,00 DH et",
     "يُنتظر أجر شهري يتراوح بين"),
    ({"monthly_salary": "12"}, "monthly_salary", "Un traitement mensuel compris entre 100,00 DH et",
     "يُنتظر أجر شهري يتراوح بين"),
    ({"monthly_salary": "8500.555"}, "monthly_salary", "Deux décimales au plus (centimes).",
     "رقمان عشريان على الأكثر (السنتيمات)."),
    ({"monthly_salary": "huit mille"}, "monthly_salary", "Un montant mensuel en dirhams est attendu",
     "يُنتظر مبلغ شهري بالدرهم"),
    ({"monthly_salary": "NaN"}, "monthly_salary", "Un montant mensuel en dirhams est attendu",
     "يُنتظر مبلغ شهري بالدرهم"),
    ({"monthly_salary": ""}, "monthly_salary", "Ce champ est obligatoire", "هذا الحقل مطلوب"),
    ({"scale": "13"}, "scale", "Entre 1 et 12.", "بين 1 و12."),
    ({"step": "0"}, "step", "Entre 1 et 15.", "بين 1 و15."),
    ({"step": "sept"}, "step", "Saisissez un nombre entier.", "أدخل رقما صحيحا."),
    ({"start": "2000-01-01"}, "start",
     "Une autre ligne de traitement de cet affilié commence à cette date (1 janvier 2000).",
     ar("يبدأ سجل أجر آخر لهذا المنخرط في هذا التاريخ (%s).", date(2000, 1, 1))),
    ({"start": FUTURE}, "start", "Une ligne de traitement ne peut pas commencer dans le futur.",
     "لا يمكن أن يبدأ سجل أجر في المستقبل."),
])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_bad_salary_values_are_refused_with_a_clear_message(client, person, values, field, french, arabic,
                                                            language):
    client.force_login(ManagerFactory())
    client.cookies["django_language"] = language
    data = {"start": "2016-07-01", "monthly_salary": "10200.00", "scale": "11", "step": "7", **values}
    response = post(client, person, "salary:new", **data)
    assert response.status_code == 200 and expected(french if language == "fr" else arabic) in errors(response)[field]
    assert nothing_written() and SalaryRecord.objects.filter(affiliate=person).count() == 2


def test_a_record_of_another_affiliate_is_not_found(client, person):
    stranger = with_career(AffiliateFactory(), salaries=[(date(2001, 1, 1), "5000")], family=False)
    theirs, salary = stranger.periods.get(), stranger.salaries.get()
    client.force_login(ManagerFactory())
    # On the page: not found, as anything outside what the page is about.
    assert client.get(form_url(person, f"service_period:{theirs.pk}")).status_code == 404
    assert post(client, person, f"salary:{salary.pk}", start="2001-01-01", monthly_salary="5100", scale="11",
                step="5").status_code == 404
    # Through the service (the API's path): refused as not found, in the reader's language.
    with pytest.raises(services.CorrectionError) as refused:
        services.request_correction(AgentFactory(), person.pk, field="service_period", record=theirs.pk,
                                    proposed_value={"start": "2000-01-01", "end": None, "kind": "effective"},
                                    reason="r", document=pdf())
    assert refused.value.errors["record"] == "Cette période de service ne figure pas au registre de cet affilié."
    api = APIClient()
    api.force_authenticate(AgentFactory())
    api.credentials(HTTP_ACCEPT_LANGUAGE="ar")
    answer = api.post("/api/v1/correction-requests/", {
        "affiliate": person.pk, "field": "salary", "record": salary.pk, "reason": "r",
        "proposed_value": '{"start": "2001-01-01", "monthly_salary": "5100", "scale": 11, "step": 5}',
        "document": pdf()}, format="multipart")
    assert answer.status_code == 400 and answer.json()["record"] == ["سجل الأجر هذا غير موجود في سجل هذا المنخرط."]
    assert nothing_written()
    theirs.refresh_from_db()
    assert theirs.start == date(2000, 1, 1)


def test_a_period_through_the_api(person):
    api = APIClient()
    api.force_authenticate(ManagerFactory())
    created = api.post("/api/v1/correction-requests/", {
        "affiliate": person.pk, "field": "service_period", "reason": "Arrêté de détachement",
        "proposed_value": {"start": "2010-01-01", "end": "2011-12-31", "kind": "secondment"},
    }, format="json")
    assert created.status_code == 400 and "document" in created.json()  # the PDF is required
    created = api.post("/api/v1/correction-requests/", {
        "affiliate": person.pk, "field": "service_period", "reason": "Arrêté de détachement",
        "proposed_value": '{"start": "2010-01-01", "end": "2011-12-31", "kind": "secondment"}', "document": pdf(),
    }, format="multipart")
    assert created.status_code == 201 and created.json()["record_id"] is None
    cmr = APIClient()
    cmr.force_authenticate(CmrAgentFactory())
    assert cmr.post(f"/api/v1/correction-requests/{created.json()['id']}/accept/", {}, format="json").status_code == 200
    assert ServicePeriod.objects.filter(affiliate=person, kind="secondment").count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("birth_date", "2001-05-01", "La date de naissance doit précéder la date de recrutement (1 janvier 2000)."),
    ("recruitment_date", "1970-01-01", "La date de recrutement doit être postérieure à la date de naissance"),
    ("tenure_date", "1999-01-01", "La date de titularisation ne peut pas précéder la date de recrutement"),
    ("birth_date", (date.today() + timedelta(days=3)).isoformat(), "La date ne peut pas être dans le futur."),
])
def test_a_date_that_contradicts_the_record_is_refused(client, person, field, value, message):
    client.force_login(ManagerFactory())
    response = post(client, person, field, proposed_value=value)
    assert response.status_code == 200 and message in errors(response)["proposed_value"]
    assert nothing_written()


# --- 3. the supporting PDF kept when the form is refused ---


def test_the_document_is_kept_when_another_field_is_refused(client, person, django_capture_on_commit_callbacks):
    client.force_login(ManagerFactory())
    first = post(client, person, "birth_date", proposed_value="1975-02-30", document=pdf("acte-naissance.pdf"))
    assert first.status_code == 200 and "Ce n'est pas une date" in errors(first)["proposed_value"]
    assert nothing_written()
    body = first.content.decode()
    assert 'data-testid="kept-document"' in body and "acte-naissance.pdf" in body
    token = first.context["form"].data["kept"]
    assert token and f'name="kept" value="{token}"' in body
    kept = KeptDocument.objects.get()
    stored = kept.document.storage.path(kept.document.name)
    # The officer fixes the date and sends again without choosing the file.
    with django_capture_on_commit_callbacks(execute=True):
        second = post(client, person, "birth_date", proposed_value="1975-04-14", document=None, kept=token)
    assert second.status_code == 302
    c = CorrectionRequest.objects.get()
    assert c.document_name == "acte-naissance.pdf"
    assert c.document_sha256 == hashlib.sha256(SIGNED["pdf"]).hexdigest() and c.document.read() == SIGNED["pdf"]
    assert not KeptDocument.objects.exists()
    assert not os.path.exists(stored)  # removed once the request is committed


def test_the_document_is_kept_across_several_refusals_and_replaced_by_a_new_one(client, person):
    client.force_login(ManagerFactory())
    first = post(client, person, "service_period:new", start="2010-01-01", end="2009-01-01", kind="effective")
    token = first.context["form"].data["kept"]
    second = post(client, person, "service_period:new", start="2010-01-01", end="2009-06-01", kind="effective",
                  document=None, kept=token)
    assert second.context["form"].data["kept"] == token and second.context["form"].kept_document is not None
    third = post(client, person, "service_period:new", start="2010-01-01", end="2009-06-01", kind="effective",
                 document=pdf("autre.pdf"), kept=token)
    assert third.context["form"].kept_document.name == "autre.pdf" and KeptDocument.objects.count() == 1
    assert nothing_written()


def test_a_refused_document_is_not_kept(client, person):
    client.force_login(ManagerFactory())
    response = post(client, person, "birth_date", proposed_value="1975-02-30",
                    document=pdf("photo.pdf", b"\x89PNG fake"))
    assert "pas un fichier PDF" in errors(response)["document"]
    assert not KeptDocument.objects.exists() and not response.context["form"].data["kept"]
    unsigned = post(client, person, "birth_date", proposed_value="1975-04-14",
                    document=pdf(data=sample_pdf("Acte de naissance")))
    assert "ne porte aucune signature" in errors(unsigned)["document"]
    assert not KeptDocument.objects.exists() and nothing_written()


def test_a_kept_document_is_its_accounts_only_and_expires(client, person):
    client.force_login(ManagerFactory())
    token = post(client, person, "birth_date", proposed_value="1975-02-30").context["form"].data["kept"]
    client.force_login(AgentFactory())  # another officer of the same commune, with the token
    response = post(client, person, "birth_date", proposed_value="1975-04-14", document=None, kept=token)
    assert "Le document joint précédemment n'est plus conservé : joignez-le à nouveau." in errors(response)["document"]
    assert nothing_written() and KeptDocument.objects.count() == 1
    # Past its time, it is gone for its own account too, and the hourly purge removes it.
    owner = KeptDocument.objects.get().user
    KeptDocument.objects.update(created_at=timezone.now() - timedelta(hours=25))
    client.force_login(owner)
    client.cookies["django_language"] = "ar"
    response = post(client, person, "birth_date", proposed_value="1975-04-14", document=None, kept=token)
    assert "لم تعد الوثيقة المرفقة سابقا محفوظة، يرجى إرفاقها من جديد." in errors(response)["document"]
    assert nothing_written() and not KeptDocument.objects.exists()


def test_the_hourly_purge_removes_forgotten_documents(client, person, django_capture_on_commit_callbacks):
    client.force_login(ManagerFactory())
    post(client, person, "birth_date", proposed_value="1975-02-30")
    post(client, person, "sex", proposed_value="X")
    old, recent = KeptDocument.objects.order_by("id")
    KeptDocument.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    path = old.document.storage.path(old.document.name)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.purge_kept_documents.apply().successful()
    assert list(KeptDocument.objects.all()) == [recent] and not os.path.exists(path)


# --- 4. the collectivity's own list ---


def test_officers_follow_their_requests_with_the_cmrs_answer(client, person):
    manager = ManagerFactory()
    client.force_login(manager)
    post(client, person, "sex", proposed_value="M")
    post(client, person, "salary:new", start="2016-07-01", monthly_salary="10200", scale="11", step="7")
    refused, accepted = CorrectionRequest.objects.order_by("id")
    cmr = CmrAgentFactory()
    services.refuse_correction(cmr, refused.pk, reason="Selon l'acte de naissance : féminin.")
    services.accept_correction(cmr, accepted.pk, note="Vu l'arrêté du 1er juillet 2016.")
    for who in (manager, AgentFactory()):
        client.force_login(who)
        situation = client.get(reverse("affiliates:situation", args=[person.pk])).content.decode()
        link = f"{reverse('affiliates:corrections')}?affiliate={person.pk}"
        assert f'href="{link}"' in situation
        assert f'href="{reverse("affiliates:corrections")}"' in situation  # the navigation bar
        page = client.get(link)
        body = page.content.decode()
        assert [c.pk for c in page.context["page"].object_list] == [accepted.pk, refused.pk]  # all, newest first
        assert escape("Selon l'acte de naissance : féminin.") in body and escape("Vu l'arrêté du 1er juillet") in body
        assert 'data-status="refused"' in body and ">refusé<" in body and ">accepté<" in body
    other = ManagerFactory(collectivity=other_commune())
    client.force_login(other)
    assert client.get(reverse("affiliates:corrections")).context["page"].object_list == []
    assert client.get(f"{reverse('affiliates:corrections')}?affiliate={person.pk}").status_code == 404


@pytest.mark.parametrize("rows", [1, 30])
def test_the_list_pages_with_a_fixed_number_of_queries(client, django_assert_num_queries, rows):
    officer = ManagerFactory()
    people = [AffiliateFactory() for _ in range(rows)]
    for a in people:
        CorrectionRequest.objects.create(
            affiliate=a, field="birth_date", current_value="1975-03-14", proposed_value="1975-04-14",
            reason="r", document="corrections/x.pdf", document_name="x.pdf", document_sha256="0" * 64,
            document_size=1, requested_by=officer)
    client.force_login(officer)
    # session, user, second-factor device, the header's collectivity, count, the page (requests with
    # affiliates, employers and accounts), the audit event with its persons (one statement)
    with django_assert_num_queries(7):
        page = client.get(reverse("affiliates:corrections"))
    assert len(page.context["page"].object_list) == min(rows, 25)
    assert "14 avril 1975" in page.content.decode()
