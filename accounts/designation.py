"""The designation spreadsheet of circular D-6266: read it, check every row, export it back.

The circular asks every collectivity to send, in one Excel table, its HR officer's full name, CIN,
payroll number, collectivity (region, prefecture/province or commune council), position, office
phone, mobile and e-mail. Headers may be Arabic or French, in any order; an optional code column
(HCP) or province column removes the ambiguity of commune names shared across provinces.

Reading is pure (bytes in, rows out). Checking a row needs the database (collectivities, existing
accounts) and is done for the whole file with a fixed number of queries.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field

import defusedxml.ElementTree as DefusedET
import openpyxl
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import range_boundaries

from eretraite import antivirus
from eretraite.i18n import Deferred, in_each, is_arabic, shown

from . import rules
from .models import Collectivity, User

# Field -> (French header, Arabic header, other accepted spellings).
COLUMNS = {
    "full_name": ("Nom et prénom", "الاسم العائلي والشخصي",
                  ["nom complet", "nom prenom", "الاسم الكامل", "full name"]),
    "cin": ("CIN", "رقم البطاقة الوطنية للتعريف",
            ["cnie", "n cin", "carte d identite nationale", "رقم البطاقة الوطنية"]),
    "ppr": ("Numéro de rémunération (PPR)", "رقم التأجير",
            ["ppr", "numero de remuneration", "n de remuneration", "matricule"]),
    "collectivity_type": ("Type de collectivité", "صنف الجماعة الترابية",
                          ["type", "نوع الجماعة الترابية", "type de la collectivite"]),
    "collectivity": ("Collectivité territoriale", "الجماعة الترابية", ["collectivite", "conseil"]),
    "collectivity_code": ("Code HCP", "رمز الجماعة الترابية", ["code", "code de la collectivite"]),
    "province": ("Préfecture ou province", "العمالة أو الإقليم", ["province", "prefecture", "الاقليم", "العمالة"]),
    "position": ("Poste de responsabilité", "منصب المسؤولية", ["fonction", "poste"]),
    "phone_office": ("Téléphone du bureau", "رقم هاتف المكتب", ["tel bureau", "telephone bureau", "telephone fixe"]),
    "phone_mobile": ("Téléphone mobile", "رقم المحمول", ["gsm", "portable", "mobile", "telephone portable"]),
    "email": ("E-mail", "البريد الإلكتروني", ["email", "courriel", "adresse electronique", "adresse e mail"]),
}
REQUIRED = ["full_name", "cin", "ppr", "collectivity", "position", "phone_office", "phone_mobile", "email"]
EXPORT_ORDER = ["full_name", "cin", "ppr", "collectivity_type", "collectivity", "collectivity_code",
                "province", "position", "phone_office", "phone_mobile", "email"]

_ALIASES = {}
for _field, (_fr, _ar, _others) in COLUMNS.items():
    for _alias in (_fr, _ar, *_others):
        _ALIASES[rules.fold(_alias)] = _field

# Words that say which kind of council a cell names, in either language (folded).
_KIND_WORDS = [
    (Collectivity.Kind.REGION, ["conseil de la region", "conseil regional", "conseil de region", "region",
                                "مجلس جهه", "مجلس الجهه", "جهه"]),
    (Collectivity.Kind.PROVINCE, ["conseil prefectoral ou provincial", "conseil prefectoral provincial",
                                  "prefecture ou province", "prefecture province", "conseil prefectoral",
                                  "conseil provincial", "conseil de la prefecture",
                                  "conseil de la province", "prefecture", "province", "مجلس عماله",
                                  "مجلس اقليم", "مجلس عماله / اقليم", "مجلس عماله او اقليم", "عماله", "اقليم"]),
    (Collectivity.Kind.COMMUNE, ["conseil communal", "conseil de la commune", "commune", "مجلس جماعه",
                                 "مجلس الجماعه", "جماعه"]),
]


class SpreadsheetError(Exception):
    """The file as a whole cannot be read; ``messages`` (``Deferred``) say why and what to do."""

    def __init__(self, messages):
        super().__init__("; ".join(str(m) for m in messages))
        self.messages = list(messages)


@dataclass
class Row:
    line: int
    raw: dict
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    action: str = ""  # create | update | unchanged | error
    collectivity: Collectivity | None = None
    existing: User | None = None
    changes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def _header_field(value) -> str | None:
    text = rules.fold(value)
    if not text:
        return None
    if text in _ALIASES:
        return _ALIASES[text]
    # Bilingual headers ("Nom et prénom / الاسم العائلي والشخصي") as the export writes them.
    for part in re.split(r"[/\n|]+", str(value)):
        folded = rules.fold(part)
        if folded in _ALIASES:
            return _ALIASES[folded]
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


# A workbook is a zip: before openpyxl reads anything, its members are checked against what a
# designation table can need (a few sheets and parts, each of a few MB once unpacked). A "zip bomb"
# (a small file that unpacks to gigabytes, or one cell of hundreds of MB) is refused from the
# archive's own directory, without unpacking it. 5,000 officers take about 3 MB of sheet and 2 MB of
# shared strings.
ARCHIVE_MAX_MEMBERS = 200
ARCHIVE_MAX_MEMBER_BYTES = 20 * 1024 * 1024
ARCHIVE_MAX_TOTAL_BYTES = 40 * 1024 * 1024
ARCHIVE_MAX_RATIO = 100  # unpacked / packed, for a member over 1 MB unpacked
# The template's columns, with room for a few more: a sheet claiming 16,384 columns is read this wide.
READ_MAX_COLUMNS = len(COLUMNS) + 12
# No cell of the template needs more (a name, a position, an address); a longer one refuses its row
# and only its first characters are kept.
CELL_MAX_CHARS = 500
CELL_KEPT_CHARS = 80
# Blank or title rows tolerated beyond the officers before the sheet is "too long"; merged ranges.
ROW_SLACK = 1000
MAX_MERGED_RANGES = 5000

NOT_XLSX = Deferred(gettext_noop(
    "This file is not an Excel workbook (.xlsx). Open it in Excel or LibreOffice, save it as “Excel Workbook "
    "(.xlsx)” and upload it again."))


def _refused(msgid, **params) -> "SpreadsheetError":
    return SpreadsheetError([Deferred(msgid, params)])


def _too_many_rows(limit):
    return _refused(gettext_noop("The file has more than %(limit)d rows; at most %(limit)d officers are accepted "
                                 "at once. Split it into several files."), limit=limit)


def _check_archive(data: bytes) -> None:
    """Refuse a zip that is not a workbook, or one too big once unpacked, from its directory alone."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SpreadsheetError([NOT_XLSX]) from None
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise SpreadsheetError([NOT_XLSX])
    too_big = gettext_noop("This workbook is abnormally large once unpacked (%(what)s). Save the designation "
                           "table alone in a new workbook (.xlsx) and upload that file.")
    if len(members) > ARCHIVE_MAX_MEMBERS:
        raise _refused(too_big, what=in_each(lambda: _("%(n)d parts") % {"n": len(members)}))
    total = sum(m.file_size for m in members)
    if total > ARCHIVE_MAX_TOTAL_BYTES:
        raise _refused(too_big, what=f"{total // (1024 * 1024)} MB")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        bomb = member.file_size > 1024 * 1024 and ratio > ARCHIVE_MAX_RATIO
        if member.file_size > ARCHIVE_MAX_MEMBER_BYTES or bomb:
            raise _refused(too_big, what=f"{member.filename[:80]}: {member.file_size // (1024 * 1024)} MB")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _scan_sheet(source, *, limit: int) -> tuple[int, list[tuple[int, int, int, int, str]]]:
    """One streaming pass over the sheet's XML before openpyxl reads it: the last row that holds a value,
    and the merged ranges ``(min_col, min_row, max_col, max_row, ref)``. Rows are dropped as they are
    seen, so memory stays flat; a sheet of more than ``limit`` filled rows, or with a value beyond
    ``limit + ROW_SLACK``, is refused here without reading further."""
    last = filled = row_number = 0
    merged = []
    sheet_data = None
    for event, element in DefusedET.iterparse(source, events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = element
            continue
        if tag == "row":
            try:
                row_number = int(element.get("r") or row_number + 1)
            except ValueError:
                row_number += 1
            if any(len(cell) for cell in element):  # a cell with a value, an inline string or a formula
                filled += 1
                last = row_number
                if filled > limit + 1 or row_number > limit + ROW_SLACK:
                    raise _too_many_rows(limit)
            if sheet_data is not None:
                sheet_data.remove(element)
            else:
                element.clear()
        elif tag == "mergeCell":
            if len(merged) >= MAX_MERGED_RANGES:
                raise _refused(gettext_noop("The sheet has more than %(n)d merged ranges. Unmerge its cells."),
                               n=MAX_MERGED_RANGES)
            ref = element.get("ref") or ""
            try:
                min_col, min_row, max_col, max_row = range_boundaries(ref)
            except (ValueError, TypeError):
                continue
            if min_row is not None:
                merged.append((min_col or 1, min_row, max_col or 16384, max_row or 1048576, ref))
            element.clear()
    return last, merged


def _defect(field_name: str, msgid: str, **params) -> dict:
    return {"field": field_name, "message": Deferred(msgid, params).as_json()}


def _cell_text(cell, field_name, defects) -> str:
    """The text of ``cell``, noting in ``defects`` why its row cannot be imported (a formula, an error
    value, a cell too long); what is kept of a long cell is its beginning only."""
    value = cell.value
    coordinate = getattr(cell, "coordinate", "")
    if value is None:
        return ""
    if cell.data_type == "f":
        defects.append(_defect(field_name, gettext_noop(
            "Cell %(cell)s contains a formula. Replace it by its value (Copy, then Paste special > Values "
            "only)."), cell=coordinate))
    elif cell.data_type == "e":
        defects.append(_defect(field_name, gettext_noop(
            "Cell %(cell)s shows an error (%(value)s). Write the value itself."), cell=coordinate,
            value=str(value)[:20]))
    text = _cell(value)
    if len(text) > CELL_MAX_CHARS:
        defects.append(_defect(field_name, gettext_noop(
            "Cell %(cell)s holds %(length)d characters; at most %(max)d are expected."), cell=coordinate,
            length=len(text), max=CELL_MAX_CHARS))
        text = text[:CELL_KEPT_CHARS] + "…"
    return text


def read_workbook(data: bytes) -> list[dict]:
    """Rows of the first sheet as ``{"line": n, field: text, "defects": [...]}``, or ``SpreadsheetError``.

    Only a file that is not a readable workbook, is too big, or has no recognisable header is refused
    as a whole. A formula, an error value, a merged cell or a cell too long in a row refuses that row
    (its ``defects``, shown with the row) and no other. The workbook is read once, streaming
    (openpyxl's read-only mode), the template's columns only, up to the last filled row.
    """
    if not data:
        raise _refused(gettext_noop("The file is empty."))
    if len(data) > settings.DESIGNATION_MAX_BYTES:
        raise _refused(gettext_noop("The file is larger than %(mb)d MB. Upload the designation table alone."),
                       mb=settings.DESIGNATION_MAX_BYTES // (1024 * 1024))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SpreadsheetError([NOT_XLSX])
    _check_archive(data)
    try:
        verdict = antivirus.scan(data)
    except antivirus.ScannerUnavailable:
        raise SpreadsheetError([Deferred.rendered(antivirus.UNAVAILABLE_MESSAGE)]) from None
    if not verdict.clean:
        raise SpreadsheetError([Deferred.rendered(antivirus.INFECTED_MESSAGE)])
    limit = settings.DESIGNATION_MAX_ROWS
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            if not wb.worksheets:
                raise _refused(gettext_noop("The sheet is empty: it has neither a header row nor officers."))
            ws = wb.worksheets[0]
            with wb._archive.open(ws._worksheet_path) as source:  # noqa: SLF001 (the same part openpyxl reads)
                last, merged = _scan_sheet(source, limit=limit)
            if not last:
                raise _refused(gettext_noop("The sheet is empty: it has neither a header row nor officers."))
            ws.reset_dimensions()  # the size the sheet claims is not believed: it is read as far as it is filled
            rows = [tuple(row) for row in ws.iter_rows(min_row=1, max_row=last, max_col=READ_MAX_COLUMNS)]
        finally:
            wb.close()
    except SpreadsheetError:
        raise
    except Exception:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise SpreadsheetError([NOT_XLSX]) from None

    def header_of(cell):
        value = getattr(cell, "value", None)
        if value is None or getattr(cell, "data_type", "") == "f" or len(str(value)) > CELL_MAX_CHARS:
            return None
        return _header_field(value)

    header_index = next((i for i, r in enumerate(rows) if any(header_of(c) for c in r)), None)
    if header_index is None:
        raise _refused(gettext_noop("No header row was recognised. The first row must name the columns, for "
                                    "example “CIN” or “رقم البطاقة الوطنية للتعريف”."))
    mapping = {}
    for col, cell in enumerate(rows[header_index]):
        name = header_of(cell)
        if name and name not in mapping.values():
            mapping[col] = name
    missing = [f for f in REQUIRED if f not in mapping.values()]
    if missing:
        names = ", ".join(f"{COLUMNS[f][0]} / {COLUMNS[f][1]}" for f in missing)
        raise _refused(gettext_noop("Missing columns: %(names)s."), names=names)

    header_line = header_index + 1
    result = []
    for offset, cells in enumerate(rows[header_index + 1:], start=header_line + 1):
        if not any(getattr(c, "value", None) not in (None, "") for c in cells):
            continue
        record, defects = {"line": offset}, []
        for col, name in mapping.items():
            record[name] = _cell_text(cells[col], name, defects) if col < len(cells) else ""
        for min_col, min_row, max_col, max_row, ref in merged:
            if min_row <= offset <= max_row and max_row > header_line:
                for col, name in mapping.items():
                    if min_col <= col + 1 <= max_col:
                        defects.append(_defect(name, gettext_noop(
                            "Cells %(range)s are merged. Unmerge them and write the value in every row."),
                            range=ref))
                        break
        if defects:
            record["defects"] = defects
        result.append(record)
    if not result:
        raise _refused(gettext_noop("The sheet has a header row but no officer under it."))
    return result


def _split_kind(text: str):
    """('conseil communal de Tanger') -> (COMMUNE, 'tanger'); no kind word -> (None, folded)."""
    folded = rules.fold(text)
    for kind, words in _KIND_WORDS:
        for word in sorted(words, key=len, reverse=True):
            for sep in (" de la ", " de l ", " d ", " du ", " des ", " de ", " "):
                prefix = word + sep
                if folded.startswith(prefix):
                    return kind, folded[len(prefix):].strip()
            if folded == word:
                return kind, ""
    return None, folded


def _kind_of(text: str):
    """The kind a type cell names ('Conseil communal / مجلس جماعة' as the export writes it), or None."""
    for part in [text, *re.split(r"[/|\n]+", text)]:
        kind, rest = _split_kind(part)
        if kind is not None and not rest:
            return kind
    return None


class _Directory:
    """Collectivities indexed by code and by folded name, loaded once per file."""

    def __init__(self):
        self.by_code = {}
        self.by_name = {}
        for c in Collectivity.objects.filter(is_active=True).select_related("province"):
            self.by_code[c.code] = c
            for name in {rules.fold(c.name_fr), rules.fold(c.name_ar)}:
                self.by_name.setdefault(name, []).append(c)

    def resolve(self, raw):
        """The collectivity a row names, or a ``Deferred`` message saying why none."""
        code = (raw.get("collectivity_code") or "").strip()
        if code:
            found = self.by_code.get(code)
            if found is None:
                return None, Deferred(gettext_noop("No collectivity has the HCP code “%(code)s”."), {"code": code})
            return found, None
        text = raw.get("collectivity", "")
        kind, name = _split_kind(text)
        if raw.get("collectivity_type"):
            type_kind = _kind_of(raw["collectivity_type"])
            if type_kind is None:
                return None, Deferred(gettext_noop(
                    "“%(value)s” is not a type of collectivity: write regional council, prefectoral or "
                    "provincial council, or communal council."), {"value": raw["collectivity_type"]})
            kind = type_kind
        if not name:
            return None, Deferred(gettext_noop("The collectivity is missing."))
        candidates = [c for c in self.by_name.get(name, []) if kind is None or c.kind == kind]
        if not candidates and name != rules.fold(text):  # a name that merely starts like a kind word
            candidates = [c for c in self.by_name.get(rules.fold(text), []) if kind is None or c.kind == kind]
        province = rules.fold(raw.get("province", ""))
        if province and len(candidates) > 1:
            _k, province = _split_kind(raw["province"])
            candidates = [c for c in candidates if c.province and province in
                          (rules.fold(c.province.name_fr), rules.fold(c.province.name_ar))]
        if not candidates:
            return None, Deferred(gettext_noop(
                "No collectivity is called “%(name)s”. Check the spelling, or give its HCP code."), {"name": text})
        if len(candidates) > 1:
            first = candidates[:6]
            codes = in_each(lambda: ", ".join(
                f"{c.code} ({c.province.name if c.province else c.get_kind_display()})" for c in first))
            return None, Deferred(gettext_noop(
                "Several collectivities are called “%(name)s”: %(codes)s. Add the HCP code or the province "
                "column."), {"name": text, "codes": codes})
        return candidates[0], None


_CHECKS = [
    ("full_name", rules.clean_name),
    ("cin", rules.clean_cin),
    ("ppr", rules.clean_ppr),
    ("email", rules.clean_email),
    ("phone_office", lambda v: rules.clean_phone(v, mobile=False)),
    ("phone_mobile", lambda v: rules.clean_phone(v, mobile=True)),
]
_COMPARED = ["full_name", "ppr", "email", "position", "phone_office", "phone_mobile"]


def check_rows(raw_rows: list[dict]) -> list[Row]:
    """Validate every row against the file itself and the database; decide create/update/unchanged.

    Every reason a row is refused is a ``Deferred`` message: kept with the import, it is shown later in
    the reader's language."""
    directory = _Directory()
    rows = []
    for raw in raw_rows:
        row = Row(line=raw["line"], raw=raw)
        defective = set()
        for defect in raw.get("defects", []):
            row.errors.append(Deferred.from_json(defect["message"]))
            defective.add(defect.get("field"))
        for name, check in _CHECKS:
            if name in defective:  # a formula or a merged cell: its value says nothing more
                continue
            try:
                row.values[name] = check(raw.get(name, ""))
            except rules.InvalidValue as exc:
                row.errors.append(exc.deferred)
        row.values["position"] = " ".join((raw.get("position") or "").split())[:150]
        if not row.values["position"] and "position" not in defective:
            row.errors.append(Deferred(gettext_noop("The position is missing.")))
        if not {"collectivity", "collectivity_code", "collectivity_type", "province"} & defective:
            row.collectivity, problem = directory.resolve(raw)
            if problem:
                row.errors.append(problem)
        rows.append(row)

    # Duplicates inside the file.
    seen = {"cin": {}, "email": {}, "collectivity": {}}
    messages = {
        "cin": gettext_noop("The same CIN is already on row %(line)d."),
        "email": gettext_noop("The same e-mail address is already on row %(line)d."),
        "collectivity": gettext_noop("Row %(line)d already designates an officer for this collectivity."),
    }
    for row in rows:
        keys = {"cin": row.values.get("cin"), "email": row.values.get("email"),
                "collectivity": row.collectivity.pk if row.collectivity else None}
        for kind, key in keys.items():
            if not key:
                continue
            first = seen[kind].setdefault(key, row.line)
            if first != row.line:
                row.errors.append(Deferred(messages[kind], {"line": first}))

    # Against the accounts that exist.
    cins = [r.values["cin"] for r in rows if r.values.get("cin")]
    emails = [r.values["email"] for r in rows if r.values.get("email")]
    by_cin = {u.cin: u for u in User.objects.filter(cin__in=cins).select_related("collectivity")}
    by_email = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
    managers = {
        u.collectivity_id: u
        for u in User.objects.filter(role=User.Role.MANAGER, is_active=True).select_related("collectivity")
    }
    for row in rows:
        cin = row.values.get("cin")
        existing = by_cin.get(cin) if cin else None
        if existing is not None:
            if existing.role != User.Role.MANAGER:
                row.errors.append(Deferred(gettext_noop(
                    "This CIN belongs to an existing account (%(role)s) that is not a designated officer."),
                    {"role": User.Role(existing.role).label}))
            elif row.collectivity and existing.collectivity_id != row.collectivity.pk:
                row.errors.append(Deferred(gettext_noop("This officer is already designated for %(other)s."),
                                           {"other": in_each(lambda e=existing: e.collectivity.council_label)}))
            elif not existing.is_active:
                row.errors.append(Deferred(gettext_noop(
                    "This officer's account is disabled. Enable it in the admin first.")))
        current = managers.get(row.collectivity.pk) if row.collectivity else None
        if current is not None and current.cin != cin:
            row.errors.append(Deferred(gettext_noop(
                "%(name)s (CIN %(cin)s) is already the designated officer of this collectivity. Disable his "
                "account first."), {"name": current.full_name, "cin": current.cin}))
        email = row.values.get("email")
        other = by_email.get(email) if email else None
        if other is not None and other.cin != cin:
            row.errors.append(Deferred(gettext_noop("This e-mail address is already used by another account.")))
        row.existing = existing
        if row.errors:
            row.action = "error"
        elif existing is None:
            row.action = "create"
        else:
            row.changes = [f for f in _COMPARED if (getattr(existing, f) or "") != row.values.get(f, "")]
            row.action = "update" if row.changes else "unchanged"
    return rows


@dataclass
class Outcome:
    """What became of one row, as kept with the import (``DesignationImport.outcomes``) and shown."""

    line: int
    action: str
    full_name: str = ""
    cin: str = ""
    email: str = ""
    collectivity: str = ""
    collectivity_code: str = ""
    changes: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    user_id: int | None = None
    email_status: str = ""  # what became of the activation e-mail, attached by the page
    email_failed: bool = False

    @classmethod
    def of(cls, row: Row) -> "Outcome":
        c = row.collectivity
        user = row.existing
        return cls(
            line=row.line, action=row.action, full_name=row.raw.get("full_name", ""), cin=row.raw.get("cin", ""),
            email=row.raw.get("email", ""),
            collectivity=in_each(lambda: c.council_label) if c else row.raw.get("collectivity", ""),
            collectivity_code=c.code if c else "", changes=list(row.changes), errors=list(row.errors),
            user_id=user.pk if user is not None else None,
        )

    def as_json(self) -> dict:
        return {"line": self.line, "action": self.action, "full_name": self.full_name, "cin": self.cin,
                "email": self.email, "collectivity": self.collectivity, "collectivity_code": self.collectivity_code,
                "changes": self.changes, "errors": [e.as_json() for e in self.errors], "user": self.user_id}

    @classmethod
    def from_json(cls, data: dict) -> "Outcome":
        return cls(line=data["line"], action=data["action"], full_name=data.get("full_name", ""),
                   cin=data.get("cin", ""), email=data.get("email", ""), collectivity=data.get("collectivity", ""),
                   collectivity_code=data.get("collectivity_code", ""), changes=data.get("changes", []),
                   errors=[Deferred.from_json(e) for e in data.get("errors", [])], user_id=data.get("user"))

    @property
    def collectivity_label(self) -> str:
        value = self.collectivity
        if isinstance(value, dict):
            return shown(value)
        return value

    @property
    def change_labels(self) -> list[str]:
        return [COLUMNS[f][1 if is_arabic() else 0] for f in self.changes if f in COLUMNS]


def summarise(rows: list[Row]) -> dict:
    summary = {"rows": len(rows), "create": 0, "update": 0, "unchanged": 0, "error": 0}
    for row in rows:
        summary[row.action] += 1
    return summary


def header_label(name: str) -> str:
    fr, ar, _others = COLUMNS[name]
    return f"{fr} / {ar}"


def export_workbook(managers) -> bytes:
    """The designation template, filled from ``managers`` (accounts with their collectivity)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Désignations"
    ws.append([header_label(name) for name in EXPORT_ORDER])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    kind_labels = {
        Collectivity.Kind.REGION: "Conseil de région / مجلس جهة",
        Collectivity.Kind.PROVINCE: "Conseil préfectoral ou provincial / مجلس عمالة أو إقليم",
        Collectivity.Kind.COMMUNE: "Conseil communal / مجلس جماعة",
    }
    for user in managers:
        c = user.collectivity
        ws.append([
            user.full_name, user.cin, user.ppr, kind_labels[c.kind], c.name_fr, c.code,
            c.province.name_fr if c.province_id else "", user.position, user.phone_office,
            user.phone_mobile, user.email,
        ])
    for column, width in zip("ABCDEFGHIJK", (28, 12, 14, 26, 28, 14, 24, 28, 14, 14, 30), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
