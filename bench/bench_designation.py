"""Designation spreadsheet: 1,590 officers (one per council) previewed and imported on PostgreSQL.

Target (issue 2): preview + import under 10 s.
"""

import io

import openpyxl
from django.conf import settings
from django.db import connection

from bench.common import Timer, ensure_database

TARGET_SECONDS = 10.0


def _workbook(collectivities) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["الاسم العائلي والشخصي", "رقم البطاقة الوطنية للتعريف", "رقم التأجير", "Type de collectivité",
               "Collectivité territoriale", "Code HCP", "منصب المسؤولية", "رقم هاتف المكتب", "رقم المحمول",
               "البريد الإلكتروني"])
    kinds = {"region": "Conseil de région", "province": "Conseil préfectoral ou provincial",
             "commune": "Conseil communal"}
    for n, c in enumerate(collectivities, start=1):
        ws.append([f"Responsable {n}", f"BX{n:06d}", f"{3000000 + n}", kinds[c.kind], c.name_fr, c.code,
                   "Chef du service du personnel", f"0537{n:06d}", f"06{n:08d}", f"rh{n}@collectivite.ma"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run():
    ensure_database()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from accounts.models import ActivationLink, AuditEvent, Collectivity, DesignationImport, User
    from accounts.services import apply_designation, preview_designation

    # A clean slate for the officers this benchmark designates.
    bench_users = User.objects.filter(cin__startswith="BX")
    ActivationLink.objects.filter(user__in=bench_users).delete()
    AuditEvent.objects.filter(actor__username="bench-dgct").delete()
    DesignationImport.objects.filter(uploaded_by__username="bench-dgct").delete()
    bench_users.delete()
    User.objects.filter(role=User.Role.MANAGER, is_active=True).update(is_active=False)
    admin, _ = User.objects.get_or_create(username="bench-dgct", defaults={"role": User.Role.DGCT_ADMIN,
                                                                          "is_staff": True})
    councils = list(Collectivity.objects.order_by("code"))
    data = _workbook(councils)

    with Timer() as preview:
        record, rows = preview_designation(data, filename="bench.xlsx", by=admin)
    assert record.status == "previewed", record.file_errors
    with Timer() as apply:
        summary, _ = apply_designation(record, by=admin)
    with Timer() as again:  # idempotence: the same file a second time
        record2, _ = preview_designation(data, filename="bench.xlsx", by=admin)
        summary2, _ = apply_designation(record2, by=admin)
    total = preview.seconds + apply.seconds
    return {
        "database": connection.vendor,
        "rows": len(councils),
        "file_bytes": len(data),
        "preview_seconds": round(preview.seconds, 2),
        "import_seconds": round(apply.seconds, 2),
        "preview_plus_import_seconds": round(total, 2),
        "created": summary["create"],
        "errors": summary["error"],
        "second_import_seconds": round(again.seconds, 2),
        "second_import_unchanged": summary2["unchanged"],
        "target_seconds": TARGET_SECONDS,
        "targets_met": total < TARGET_SECONDS and summary["create"] == len(councils) and summary2["create"] == 0,
    }
