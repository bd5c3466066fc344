"""The name search's lexicon (issue 16: a name among a million in tens of milliseconds).

Each person now stores only the *forms* of his names (``identifiers.name_forms``, a few words)
instead of every key of them (some sixty); the keys live once per distinct form in the lexicon
(``NameWord``). On PostgreSQL:
- the people's forms keep their GIN index (``string_to_array(search_words, ' ')``);
- the lexicon gets a GIN index on its keys and a trigram index for what the keys miss (Django's own
  ``_like`` index on its key serves partial words, ``LIKE 'fas%'``);
- the trigram indexes over the million full names go (the lexicon's replace them), and a pattern
  index on each folded full name serves the exact and beginning-of-name matches, in name order;
- the ``_like`` pattern indexes Django made for the unique identifiers go: CIN, PPR and
  affiliation number are only ever looked up by equality (their unique index serves it).
"""

from django.db import migrations, models

BATCH = 2000

PG_FORWARD = [
    "DROP INDEX IF EXISTS affiliate_search_fr_trgm",
    "DROP INDEX IF EXISTS affiliate_search_ar_trgm",
    "ALTER INDEX IF EXISTS affiliate_search_keys RENAME TO affiliate_search_words",
    "CREATE INDEX IF NOT EXISTS affiliate_search_fr_name ON affiliates_affiliate (search_fr varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS affiliate_search_ar_name ON affiliates_affiliate (search_ar varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS nameword_keys ON affiliates_nameword USING gin (string_to_array(keys, ' '))",
    "CREATE INDEX IF NOT EXISTS nameword_trgm ON affiliates_nameword USING gin (form gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS nameword_trgm",
    "DROP INDEX IF EXISTS nameword_keys",
    "DROP INDEX IF EXISTS affiliate_search_ar_name",
    "DROP INDEX IF EXISTS affiliate_search_fr_name",
    "ALTER INDEX IF EXISTS affiliate_search_words RENAME TO affiliate_search_keys",
    "CREATE INDEX IF NOT EXISTS affiliate_search_fr_trgm ON affiliates_affiliate USING gin (search_fr gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS affiliate_search_ar_trgm ON affiliates_affiliate USING gin (search_ar gin_trgm_ops)",
]


def _drop_identifier_pattern_indexes(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'affiliates_affiliate' "
            "AND indexname LIKE 'affiliates_affiliate_%%_like' "
            "AND (indexdef LIKE '%%(cin %%' OR indexdef LIKE '%%(ppr %%' "
            "OR indexdef LIKE '%%(affiliation_number %%')"
        )
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def forward(apps, schema_editor):
    from affiliates.identifiers import form_keys, name_forms

    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        for sql in PG_FORWARD:
            schema_editor.execute(sql)
        _drop_identifier_pattern_indexes(schema_editor)
    Affiliate = apps.get_model("affiliates", "Affiliate")
    NameWord = apps.get_model("affiliates", "NameWord")
    batch, forms = [], set()
    for affiliate in Affiliate.objects.only("id", "search_fr", "search_ar").iterator(chunk_size=BATCH):
        words = name_forms(affiliate.search_fr, affiliate.search_ar)
        affiliate.search_words = " ".join(words)
        forms.update(words)
        batch.append(affiliate)
        if len(batch) >= BATCH:
            Affiliate.objects.bulk_update(batch, ["search_words"])
            batch = []
    if batch:
        Affiliate.objects.bulk_update(batch, ["search_words"])
    NameWord.objects.bulk_create(
        [NameWord(form=f, keys=" ".join(form_keys(f))) for f in sorted(forms)],
        ignore_conflicts=True,
        batch_size=BATCH,
    )


def backward(apps, schema_editor):
    from affiliates.identifiers import name_keys

    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_BACKWARD:
            schema_editor.execute(sql)
    Affiliate = apps.get_model("affiliates", "Affiliate")
    batch = []
    for affiliate in Affiliate.objects.only("id", "search_fr", "search_ar").iterator(chunk_size=BATCH):
        affiliate.search_words = name_keys(affiliate.search_fr, affiliate.search_ar)
        batch.append(affiliate)
        if len(batch) >= BATCH:
            Affiliate.objects.bulk_update(batch, ["search_words"])
            batch = []
    if batch:
        Affiliate.objects.bulk_update(batch, ["search_words"])


class Migration(migrations.Migration):
    dependencies = [("affiliates", "0006_verbose_names")]

    operations = [
        migrations.RenameField("affiliate", "search_keys", "search_words"),
        migrations.CreateModel(
            name="NameWord",
            fields=[
                ("form", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("keys", models.TextField()),
            ],
            options={"verbose_name": "name form", "verbose_name_plural": "name forms"},
        ),
        migrations.RunPython(forward, backward),
    ]
