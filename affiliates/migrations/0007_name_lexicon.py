"""The name search's lexicon (issue 16: a name among a million in tens of milliseconds).

Each person now stores only the *forms* of his names and their pairs (``identifiers.search_words``)
instead of every key of them (some sixty); the keys live once per distinct form in the lexicon
(``NameWord``, ``NameKey``). On PostgreSQL:
- the people's forms keep their GIN index (``string_to_array(search_words, ' ')``), with element
  statistics fine enough to count a rare pair;
- the lexicon's keys are rows (``NameKey``: key, form) whose unique (key, form) index answers a
  query word's keys by an index-only scan; the forms get a trigram index for what the keys miss
  (Django's own ``_like`` index on the form serves partial words, ``LIKE 'fas%'``);
- the trigram indexes over the million full names go (the lexicon's replace them), and an index on
  each folded full name in the "C" collation serves the exact and beginning-of-name matches
  (``LIKE 'fassi moh%'``) in its own order, so that 200 of 16,000 are read, not sorted;
- the ``_like`` pattern indexes Django made for the unique identifiers go: CIN, PPR and
  affiliation number are only ever looked up by equality (their unique index serves it).
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000

PG_FORWARD = [
    "DROP INDEX IF EXISTS affiliate_search_fr_trgm",
    "DROP INDEX IF EXISTS affiliate_search_ar_trgm",
    "ALTER INDEX IF EXISTS affiliate_search_keys RENAME TO affiliate_search_words",
    # The planner counts a query's forms and pairs from the index's element statistics: with the default
    # target it knows the hundred most common and guesses every other pair at 5% of the country (a
    # sequential read of the table for a name borne by a few hundred); with 10,000 it knows them.
    "ALTER INDEX affiliate_search_words ALTER COLUMN 1 SET STATISTICS 10000",
    'CREATE INDEX IF NOT EXISTS affiliate_search_fr_name ON affiliates_affiliate ((search_fr COLLATE "C"))',
    'CREATE INDEX IF NOT EXISTS affiliate_search_ar_name ON affiliates_affiliate ((search_ar COLLATE "C"))',
    # the same within one collectivity (a commune's or a province's search: a big commune's 21,000 people
    # not visited one by one to keep its own among 8,000 of the country whose name begins so)
    'CREATE INDEX IF NOT EXISTS affiliate_coll_search_fr ON affiliates_affiliate '
    '(collectivity_id, (search_fr COLLATE "C"))',
    'CREATE INDEX IF NOT EXISTS affiliate_coll_search_ar ON affiliates_affiliate '
    '(collectivity_id, (search_ar COLLATE "C"))',
    "CREATE INDEX IF NOT EXISTS nameword_trgm ON affiliates_nameword USING gin (form gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS nameword_trgm",
    "DROP INDEX IF EXISTS affiliate_coll_search_ar",
    "DROP INDEX IF EXISTS affiliate_coll_search_fr",
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
    from affiliates.identifiers import PAIR, form_keys, search_words

    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        for sql in PG_FORWARD:
            schema_editor.execute(sql)
        _drop_identifier_pattern_indexes(schema_editor)
    Affiliate = apps.get_model("affiliates", "Affiliate")
    NameWord = apps.get_model("affiliates", "NameWord")
    forms = set()
    if pg:  # once per distinct name (people share names), then one UPDATE joined to them
        pairs = Affiliate.objects.values_list("search_fr", "search_ar").distinct().iterator(chunk_size=BATCH)
        rows = []
        for fr, ar in pairs:
            words = search_words(fr, ar)
            forms.update(w for w in words if PAIR not in w)
            rows.append((fr, ar, " ".join(words)))
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE name_forms (fr text, ar text, words text) ON COMMIT DROP")
            cursor.executemany("INSERT INTO name_forms VALUES (%s, %s, %s)", rows)
            cursor.execute(
                "UPDATE affiliates_affiliate a SET search_words = f.words FROM name_forms f "
                "WHERE a.search_fr = f.fr AND a.search_ar = f.ar"
            )
    else:
        batch = []
        for affiliate in Affiliate.objects.only("id", "search_fr", "search_ar").iterator(chunk_size=BATCH):
            words = search_words(affiliate.search_fr, affiliate.search_ar)
            affiliate.search_words = " ".join(words)
            forms.update(w for w in words if PAIR not in w)
            batch.append(affiliate)
            if len(batch) >= BATCH:
                Affiliate.objects.bulk_update(batch, ["search_words"])
                batch = []
        if batch:
            Affiliate.objects.bulk_update(batch, ["search_words"])
    NameKey = apps.get_model("affiliates", "NameKey")
    NameWord.objects.bulk_create([NameWord(form=f) for f in sorted(forms)], ignore_conflicts=True, batch_size=BATCH)
    NameKey.objects.bulk_create(
        [NameKey(key=k, form_id=f) for f in sorted(forms) for k in form_keys(f)], ignore_conflicts=True, batch_size=BATCH
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
            fields=[("form", models.CharField(max_length=200, primary_key=True, serialize=False))],
            options={"verbose_name": "name form", "verbose_name_plural": "name forms"},
        ),
        migrations.CreateModel(
            name="NameKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=200)),
                ("form", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                           related_name="keys", to="affiliates.nameword")),
            ],
            options={
                "verbose_name": "name key",
                "verbose_name_plural": "name keys",
                "constraints": [models.UniqueConstraint(fields=("key", "form"), name="name_key_once")],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
