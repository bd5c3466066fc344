"""A certification now stores the manifest its delivery sends (``cmr.outbox.delivery_record``):
``{"sent": manifest, "files": {name: stored file}, "certified_by", "certified_at"}``. Certifications
made before kept a manifest of their own shape, and the sender rebuilt another at each attempt. Give
them the new shape, with the manifest the sender built then (documents of the round in primary-key
order, the slip last, named ``NN-<code>.pdf``, sizes and digests as recorded; a later round's
``supplement_to`` is added by the sender, as it was), so that a transmission still pending replays
the same content under its idempotency key. A certification whose slip is no longer in storage is
left as it was (its transmission fails, for staff). Backwards: nothing to undo (the old code read no
manifest).
"""

from django.db import migrations

CHUNK = 500


def _entry(position, code, stored, size, digest):
    return f"{position:02d}-{code}.pdf", {"code": code, "size": size, "sha256": digest}, stored


def store_sent_manifests(apps, schema_editor):
    Certification = apps.get_model("dossiers", "Certification")
    Document = apps.get_model("dossiers", "Document")
    legacy = (Certification.objects.exclude(manifest__has_key="sent").exclude(slip="")
              .select_related("dossier__kind", "dossier__affiliate", "dossier__collectivity"))
    last = 0
    while rows := list(legacy.filter(pk__gt=last).order_by("pk")[:CHUNK]):
        last = rows[-1].pk
        for certification in rows:
            try:
                slip_size = certification.slip.storage.size(certification.slip.name)
            except OSError:
                continue
            documents = list(Document.objects.filter(dossier_id=certification.dossier_id, round=certification.round)
                             .order_by("pk").values_list("item__code", "file", "size", "sha256"))
            files = [*documents, ("transmittal_slip", certification.slip.name, slip_size, certification.slip_sha256)]
            entries = [_entry(i, *file) for i, file in enumerate(files, start=1)]
            dossier, old = certification.dossier, certification.manifest or {}
            affiliate = dossier.affiliate
            certification.manifest = {
                "sent": {
                    "portal_dossier_id": str(dossier.reference), "kind": dossier.kind.code,
                    "affiliate": {"affiliation_number": affiliate.affiliation_number, "ppr": affiliate.ppr,
                                  "cin": affiliate.cin},
                    "collectivity_code": dossier.collectivity.code,
                    "documents": [{"name": name, **entry} for name, entry, _stored in entries],
                    "round": certification.round,
                },
                "files": {name: stored for name, _entry_, stored in entries},
                "certified_by": old.get("certified_by", ""),
                "certified_at": old.get("certified_at") or certification.certified_at.isoformat(),
            }
        Certification.objects.bulk_update(rows, ["manifest"])


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0005_cmr_outcomes"),
    ]

    operations = [
        migrations.RunPython(store_sent_manifests, migrations.RunPython.noop),
    ]
