"""The name keys now hold spelling-independent skeletons, particles split and joined
(``affiliates.identifiers.name_keys``): recompute them for every affiliate already stored."""

from django.db import migrations

BATCH = 2000


def recompute(apps, schema_editor):
    from affiliates.identifiers import name_keys

    Affiliate = apps.get_model("affiliates", "Affiliate")
    batch = []
    for affiliate in Affiliate.objects.only("id", "search_fr", "search_ar").iterator(chunk_size=BATCH):
        affiliate.search_keys = name_keys(affiliate.search_fr, affiliate.search_ar)
        batch.append(affiliate)
        if len(batch) >= BATCH:
            Affiliate.objects.bulk_update(batch, ["search_keys"])
            batch = []
    if batch:
        Affiliate.objects.bulk_update(batch, ["search_keys"])


class Migration(migrations.Migration):
    dependencies = [("affiliates", "0004_record_corrections_and_kept_documents")]
    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
