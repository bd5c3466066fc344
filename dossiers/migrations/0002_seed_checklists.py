"""Seed the dossier kinds and their checklists from dossiers/checklists.py (then editable in the admin)."""

from django.db import migrations


def seed(apps, schema_editor):
    from dossiers.checklists import ITEMS, KINDS

    Kind = apps.get_model("dossiers", "DossierKind")
    Item = apps.get_model("dossiers", "ChecklistItem")
    for order, (code, label_fr, label_ar) in enumerate(KINDS):
        kind, _ = Kind.objects.get_or_create(code=code, defaults={
            "label_fr": label_fr, "label_ar": label_ar, "order": order})
        for position, (item_code, fr, ar, required, condition) in enumerate(ITEMS[code]):
            Item.objects.get_or_create(kind=kind, code=item_code, defaults={
                "label_fr": fr, "label_ar": ar, "required": required, "condition": condition,
                "order": position})


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
