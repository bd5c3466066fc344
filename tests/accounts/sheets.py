"""Build designation spreadsheets for tests, in memory."""

import io

import openpyxl

AR_HEADERS = ["الاسم العائلي والشخصي", "رقم البطاقة الوطنية للتعريف", "رقم التأجير", "صنف الجماعة الترابية",
              "الجماعة الترابية", "منصب المسؤولية", "رقم هاتف المكتب", "رقم المحمول", "البريد الإلكتروني"]
FR_HEADERS = ["Nom et prénom", "CIN", "Numéro de rémunération (PPR)", "Type de collectivité",
              "Collectivité territoriale", "Poste de responsabilité", "Téléphone du bureau", "Téléphone mobile",
              "E-mail"]


def officer(n=1, *, collectivity="Tanger", kind="Conseil communal", **overrides):
    row = {
        "full_name": f"Officier Numéro {n}",
        "cin": f"BE{100000 + n}",
        "ppr": f"{1200000 + n}",
        "kind": kind,
        "collectivity": collectivity,
        "position": "Chef du service du personnel",
        "phone_office": "0539 12 34 56",
        "phone_mobile": f"06{n:08d}"[:10],
        "email": f"rh{n}@commune.ma",
    }
    row.update(overrides)
    return row


ORDER = ["full_name", "cin", "ppr", "kind", "collectivity", "position", "phone_office", "phone_mobile", "email"]


def workbook(rows, *, headers=FR_HEADERS, order=ORDER, extra=None, before_save=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    cols = list(zip(headers, order, strict=True)) + list((extra or {}).items())
    ws.append([h for h, _ in cols])
    for row in rows:
        ws.append([row.get(key, "") for _, key in cols])
    if before_save:
        before_save(ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
