"""Provisioning HR officers from the DGCT's designation spreadsheet (circular D-6266)."""

import io
import json

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts import designation
from accounts.models import ActivationLink, AuditEvent, DesignationImport, User
from accounts.services import apply_designation, export_designations, preview_designation
from eretraite.i18n import Deferred
from tests.accounts.sheets import AR_HEADERS, officer, workbook
from tests.factories import DgctAdminFactory, ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dgct():
    return DgctAdminFactory(is_superuser=True)


def unique_communes(n):
    """``n`` commune names that no other council bears (no code column needed)."""
    from django.db.models import Count

    from accounts.models import Collectivity

    return list(Collectivity.objects.values("name_fr").annotate(n=Count("pk")).filter(n=1)
                .filter(name_fr__in=Collectivity.objects.filter(kind="commune").values("name_fr"))
                .order_by("name_fr").values_list("name_fr", flat=True)[:n])


def preview(data, by, name="designations.xlsx"):
    with translation.override("fr"):
        return preview_designation(data, filename=name, by=by)


def test_valid_file_previews_without_writing_then_imports(dgct, django_capture_on_commit_callbacks):
    data = workbook([officer(1), officer(2, collectivity="Tétouan"), officer(3, collectivity="Fès")])
    record, rows = preview(data, dgct)
    assert record.status == "previewed"
    assert [r.action for r in rows] == ["create", "create", "create"]
    assert not User.objects.filter(role="manager").exists()  # nothing before confirmation

    with django_capture_on_commit_callbacks(execute=True):
        summary, _ = apply_designation(record, by=dgct)
    assert summary["create"] == 3
    managers = User.objects.filter(role="manager").order_by("cin")
    assert [m.collectivity.name_fr for m in managers] == ["Tanger", "Tétouan", "Fès"]
    first = managers[0]
    assert first.username == first.cin == "BE100001"
    assert first.phone_office == "0539123456" and first.email == "rh1@commune.ma"
    assert not first.has_usable_password()  # no password travels; he chooses it from the link
    assert len(mail.outbox) == 3
    message = mail.outbox[0]
    assert message.to == ["rh1@commune.ma"]
    assert "/activate/" in message.body and "Votre identifiant est votre CIN" in message.body
    assert "رقم البطاقة الوطنية" in message.body  # the same message in Arabic
    assert ActivationLink.objects.count() == 3
    assert AuditEvent.objects.filter(action="designation.officer_created").count() == 3


def test_second_import_of_the_same_file_changes_nothing(dgct, django_capture_on_commit_callbacks):
    data = workbook([officer(1), officer(2, collectivity="Tétouan")])
    with django_capture_on_commit_callbacks(execute=True):
        apply_designation(preview(data, dgct)[0], by=dgct)
    mail.outbox.clear()
    before = list(User.objects.order_by("pk").values())

    record, rows = preview(data, dgct)
    assert [r.action for r in rows] == ["unchanged", "unchanged"]
    with django_capture_on_commit_callbacks(execute=True):
        summary, _ = apply_designation(record, by=dgct)
    assert summary == {"rows": 2, "create": 0, "update": 0, "unchanged": 2, "error": 0}
    assert list(User.objects.order_by("pk").values()) == before
    assert mail.outbox == []
    assert ActivationLink.objects.count() == 2


def test_changed_contact_is_updated_matched_on_cin(dgct):
    apply_designation(preview(workbook([officer(1)]), dgct)[0], by=dgct)
    record, rows = preview(workbook([officer(1, email="nouveau@commune.ma", phone_mobile="0711223344")]), dgct)
    assert rows[0].action == "update" and set(rows[0].changes) == {"email", "phone_mobile"}
    apply_designation(record, by=dgct)
    manager = User.objects.get(cin="BE100001")
    assert manager.email == "nouveau@commune.ma" and manager.phone_mobile == "0711223344"


def test_arabic_headers_in_any_order_and_arabic_names(dgct):
    order = ["email", "cin", "full_name", "ppr", "kind", "collectivity", "position", "phone_office", "phone_mobile"]
    headers = [AR_HEADERS[["full_name", "cin", "ppr", "kind", "collectivity", "position", "phone_office",
                           "phone_mobile", "email"].index(k)] for k in order]
    data = workbook([officer(1, kind="مجلس جماعة", collectivity="طنجة", full_name="كريم الإدريسي")],
                    headers=headers, order=order)
    record, rows = preview(data, dgct)
    assert rows[0].ok, rows[0].errors
    assert rows[0].collectivity.code == "01.511.01.0"


def test_region_and_province_councils_are_told_apart_from_communes(dgct):
    data = workbook([
        officer(1, kind="Conseil de région", collectivity="Tanger-Tétouan-Al Hoceima"),
        officer(2, kind="Conseil préfectoral ou provincial", collectivity="Tanger-Assilah"),
        officer(3, kind="", collectivity="Conseil communal de Tanger"),
    ])
    _record, rows = preview(data, dgct)
    assert [(r.collectivity.kind, r.collectivity.code) for r in rows] == [
        ("region", "01"), ("province", "01.511"), ("commune", "01.511.01.0")]


def row_errors(rows):
    return [" ".join(str(e) for e in r.errors) for r in rows]


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"cin": "12345"}, "n'est pas une CIN"),
    ({"cin": ""}, "La CIN manque"),
    ({"email": "rh-at-commune"}, "n'est pas une adresse e-mail valide"),
    ({"phone_mobile": "0539123456"}, "n'est pas un numéro de mobile marocain"),
    ({"phone_office": "12"}, "n'est pas un numéro de téléphone marocain"),
    ({"ppr": "12AB"}, "n'est pas un numéro de rémunération"),
    ({"collectivity": "Atlantide"}, "Aucune collectivité ne s'appelle"),
])
def test_bad_cells_are_reported_on_their_row_and_not_imported(dgct, overrides, expected):
    data = workbook([officer(1), officer(2, **{"collectivity": "Tétouan", **overrides})])
    record, rows = preview(data, dgct)
    assert rows[0].ok
    assert expected in row_errors(rows)[1], row_errors(rows)
    summary, _ = apply_designation(record, by=dgct)
    assert summary["create"] == 1 and summary["error"] == 1
    assert User.objects.filter(role="manager").count() == 1


def test_ambiguous_commune_name_asks_for_the_code_and_code_resolves_it(dgct):
    # "Sidi Bibi"-like duplicates exist: find a French name shared by two communes.
    from django.db.models import Count

    from accounts.models import Collectivity

    name = (Collectivity.objects.filter(kind="commune").values("name_fr").annotate(n=Count("pk"))
            .filter(n__gt=1).order_by("name_fr").first()["name_fr"])
    communes = list(Collectivity.objects.filter(kind="commune", name_fr=name).order_by("code"))
    _record, rows = preview(workbook([officer(1, collectivity=name)]), dgct)
    assert "Plusieurs collectivités s'appellent" in row_errors(rows)[0]
    data = workbook([officer(1, collectivity=name, code=communes[1].code)], extra={"Code HCP": "code"})
    _record, rows = preview(data, dgct)
    assert rows[0].ok and rows[0].collectivity == communes[1]
    data = workbook([officer(1, collectivity=name, prov=communes[0].province.name_fr)],
                    extra={"Province": "prov"})
    _record, rows = preview(data, dgct)
    assert rows[0].ok and rows[0].collectivity == communes[0]


def test_duplicate_rows_in_the_file(dgct):
    data = workbook([officer(1), officer(2, cin="BE100001", collectivity="Tétouan"),
                     officer(3, collectivity="Tanger")])
    _record, rows = preview(data, dgct)
    errors = row_errors(rows)
    assert errors[0] == ""
    assert "La même CIN figure déjà à la ligne 2" in errors[1]
    assert "La ligne 2 désigne déjà un responsable pour cette collectivité" in errors[2]


def test_officer_already_designated_elsewhere(dgct):
    ManagerFactory(cin="BE100001", username="BE100001")  # manager of Tanger
    _record, rows = preview(workbook([officer(1, collectivity="Tétouan")]), dgct)
    assert "déjà désigné pour" in row_errors(rows)[0]


def test_collectivity_that_already_has_another_officer(dgct):
    ManagerFactory(cin="ZZ999999", username="ZZ999999", full_name="Ancien Responsable")
    _record, rows = preview(workbook([officer(1)]), dgct)
    assert "Ancien Responsable" in row_errors(rows)[0]


def _file_errors(data, dgct, language="fr"):
    """The refusal of a whole file, as the import record keeps it, read in ``language``."""
    record, rows = preview(data, dgct)
    assert record.status == "refused" and rows == [] and record.rows == [] and record.outcomes == []
    assert not User.objects.filter(role="manager").exists()
    with translation.override(language):
        return " ".join(str(Deferred.from_json(e)) for e in record.file_errors)


def test_not_an_xlsx(dgct):
    assert "n'est pas un classeur Excel" in _file_errors(b"nom;cin\nA;B\n", dgct)
    assert "n'est pas un classeur Excel" in _file_errors(b"PK\x03\x04 truncated zip", dgct)


def test_empty_file_and_empty_sheet(dgct):
    assert "Le fichier est vide" in _file_errors(b"", dgct)
    wb = openpyxl.Workbook()
    out = io.BytesIO()
    wb.save(out)
    assert "La feuille est vide" in _file_errors(out.getvalue(), dgct)
    assert "aucun responsable" in _file_errors(workbook([]), dgct)


def test_missing_column_is_named_in_both_languages(dgct):
    data = workbook([officer(1)], headers=["Nom et prénom", "CIN", "Numéro de rémunération (PPR)", "Type",
                                            "Collectivité territoriale", "Poste de responsabilité",
                                            "Téléphone du bureau", "Téléphone mobile", "Remarque"])
    message = _file_errors(data, dgct)
    assert "Colonnes manquantes" in message and "E-mail / البريد الإلكتروني" in message


def test_too_many_rows_is_refused(dgct, settings):
    settings.DESIGNATION_MAX_ROWS = 5000
    data = workbook([officer(n) for n in range(20000)])
    assert "plus de 5000 lignes" in _file_errors(data, dgct)


def test_a_formula_refuses_its_row_not_the_file(dgct):
    """A realistic sheet: one cell of 40 rows holds a formula; the 39 others are imported."""
    rows = [officer(n, collectivity=name) for n, name in enumerate(unique_communes(40), start=1)]

    def add_formula(ws):
        ws["B17"] = '=CONCATENATE("BE","100016")'
        ws["K5"] = "=ROW()"  # a formula in a column the template does not read changes nothing

    record, checked = preview(workbook(rows, before_save=add_formula), dgct)
    assert record.status == "previewed"
    errors = row_errors(checked)
    assert [r.line for r in checked if not r.ok] == [17]
    assert "B17" in errors[15] and "formule" in errors[15]
    assert "n'est pas une CIN" not in errors[15]  # the formula is the reason, not the CIN it computes
    summary, _ = apply_designation(record, by=dgct)
    assert summary == {"rows": 40, "create": 39, "update": 0, "unchanged": 0, "error": 1}
    assert User.objects.filter(role="manager").count() == 39


def test_merged_cells_refuse_the_rows_they_cover(dgct):
    rows = [officer(n, collectivity=name) for n, name in enumerate(unique_communes(6), start=1)]

    def merge(ws):
        ws.insert_rows(1)
        ws["A1"] = "Liste des responsables RH"  # a title above the header, merged across: harmless
        ws.merge_cells("A1:I1")
        ws.merge_cells("F4:F5")  # the position of two officers written once

    _record, checked = preview(workbook(rows, before_save=merge), dgct)
    assert [r.line for r in checked if not r.ok] == [4, 5]
    assert all("F4:F5" in e for e in row_errors(checked) if e)


def test_error_values_and_overlong_cells_refuse_their_row_only(dgct):
    rows = [officer(n, collectivity=name) for n, name in enumerate(unique_communes(4), start=1)]

    def spoil(ws):
        ws["C3"] = "#N/A"
        ws["C3"].data_type = "e"
        ws["F4"] = "x" * 30_000

    record, checked = preview(workbook(rows, before_save=spoil), dgct)
    errors = row_errors(checked)
    assert [r.line for r in checked if not r.ok] == [3, 4]
    assert "#N/A" in errors[1] and "30000 caractères" in errors[2]
    assert len(json.dumps(record.rows)) < 5000  # the long cell is not kept: only its beginning
    assert len(record.rows[2]["position"]) <= designation.CELL_KEPT_CHARS + 1


def test_every_row_outcome_is_kept_after_confirmation_in_the_reader_language(client, dgct):
    rows = [officer(1), officer(2, cin="bad", collectivity="Tétouan"), officer(3, collectivity="Fès")]
    record, _ = preview(workbook(rows), dgct)
    apply_designation(record, by=dgct)
    record.refresh_from_db()
    assert [o["action"] for o in record.outcomes] == ["create", "error", "create"]
    assert all(o["user"] for o in record.outcomes if o["action"] == "create")
    client.force_login(dgct)
    url = reverse("admin:accounts_designation_preview", args=[record.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "n&#x27;est pas une CIN" in page and "responsable créé" in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert "ليس رقم بطاقة وطنية" in page  # the same refusal, read later in Arabic
    assert "n&#x27;est pas une CIN" not in page


def test_confirming_twice_is_refused(dgct):
    record, _ = preview(workbook([officer(1)]), dgct)
    apply_designation(record, by=dgct)
    with pytest.raises(ValidationError, match="déjà été confirmé"):
        apply_designation(record, by=dgct)
    assert User.objects.filter(role="manager").count() == 1


def test_export_round_trips_as_unchanged(dgct):
    apply_designation(preview(workbook([officer(1), officer(2, collectivity="Fès")]), dgct)[0], by=dgct)
    exported = export_designations()
    ws = openpyxl.load_workbook(io.BytesIO(exported)).active
    assert ws["B1"].value == "CIN / رقم البطاقة الوطنية للتعريف"
    assert ws["B2"].value == "BE100001" and ws["E3"].value == "Fès"
    _record, rows = preview(exported, dgct)
    assert [r.action for r in rows] == ["unchanged", "unchanged"]


class TestAdminPages:
    def test_upload_preview_confirm_and_export_in_the_admin(self, client, dgct):
        client.force_login(dgct)
        url = reverse("admin:accounts_designation_upload")
        assert client.get(url).status_code == 200
        upload = io.BytesIO(workbook([officer(1), officer(2, cin="bad")]))
        upload.name = "designations.xlsx"
        response = client.post(url, {"file": upload}, HTTP_ACCEPT_LANGUAGE="fr", follow=True)
        page = response.content.decode()
        assert "1 nouveaux responsables" in page and "1 en erreur" in page
        assert "n&#x27;est pas une CIN" in page or "n'est pas une CIN" in page
        record = DesignationImport.objects.get()
        response = client.post(reverse("admin:accounts_designation_preview", args=[record.pk]), follow=True,
                               HTTP_ACCEPT_LANGUAGE="fr")
        assert "Import terminé" in response.content.decode()
        assert User.objects.filter(role="manager").count() == 1
        response = client.get(reverse("admin:accounts_designation_export"))
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")

    def test_refused_file_shows_its_reason(self, client, dgct):
        client.force_login(dgct)
        upload = io.BytesIO(b"not a spreadsheet")
        upload.name = "designations.csv"
        response = client.post(reverse("admin:accounts_designation_upload"), {"file": upload}, follow=True,
                               HTTP_ACCEPT_LANGUAGE="ar")
        assert "ليس مصنف Excel" in response.content.decode()

    def test_collectivity_accounts_cannot_reach_the_import(self, client):
        client.force_login(ManagerFactory())
        response = client.get(reverse("admin:accounts_designation_upload"))
        assert response.status_code == 302  # the admin sends non-staff to its login page


def _repacked(data: bytes, change) -> bytes:
    """The workbook's zip with one member's text changed by ``change(name, text) -> text``."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith(".xml"):
                content = change(item.filename, content.decode()).encode()
            target.writestr(item.filename, content)
    return out.getvalue()


def _bomb(data: bytes) -> bytes:
    """The workbook with one shared string of 300 MB (a few hundred KB packed)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        target.writestr("xl/media/padding.bin", b"a" * (300 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize("hostile", ["claims every column and row", "unpacks to 300 MB", "not a workbook zip"])
def test_hostile_workbooks_are_refused_quickly_with_a_message(hostile):
    import re
    import time
    import zipfile

    from accounts.designation import SpreadsheetError, read_workbook

    data = workbook([officer(n) for n in range(1, 1501)] if hostile.startswith("claims") else [officer()])
    if hostile == "claims every column and row":
        data = _repacked(data, lambda name, text: re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:XFD1048576"',
                                                         text) if name.startswith("xl/worksheets/") else text)
    elif hostile == "unpacks to 300 MB":
        data = _bomb(data)
        assert len(data) < 2 * 1024 * 1024
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "hello")
        data = out.getvalue()
    started = time.monotonic()
    if hostile == "claims every column and row":
        rows = read_workbook(data)  # read as it really is: 1,500 officers, the template's columns
        assert len(rows) == 1500
    else:
        with pytest.raises(SpreadsheetError) as refused, translation.override("fr"):
            read_workbook(data)
        assert refused.value.messages and str(refused.value.messages[0])
    assert time.monotonic() - started < 2
