"""PostgreSQL: GIN indexes for the name search (name keys, pg_trgm), and service periods that
cannot overlap.

Elsewhere (SQLite for `make run`) nothing: the search falls back to a substring match.
"""

from django.db import migrations

PG_FORWARD = [
    # Kept on the way back: other apps may use them.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "CREATE INDEX IF NOT EXISTS affiliate_search_fr_trgm ON affiliates_affiliate "
    "USING gin (search_fr gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS affiliate_search_ar_trgm ON affiliates_affiliate "
    "USING gin (search_ar gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS affiliate_search_keys ON affiliates_affiliate "
    "USING gin (string_to_array(search_keys, ' '))",
    "ALTER TABLE affiliates_serviceperiod ADD CONSTRAINT service_period_no_overlap "
    "EXCLUDE USING gist (affiliate_id WITH =, daterange(start, \"end\", '[]') WITH &&)",
]
PG_BACKWARD = [
    "ALTER TABLE affiliates_serviceperiod DROP CONSTRAINT IF EXISTS service_period_no_overlap",
    "DROP INDEX IF EXISTS affiliate_search_keys",
    "DROP INDEX IF EXISTS affiliate_search_ar_trgm",
    "DROP INDEX IF EXISTS affiliate_search_fr_trgm",
]
OTHER_FORWARD = []
OTHER_BACKWARD = []


def _run(statements_pg, statements_other):
    def run(apps, schema_editor):
        pg = schema_editor.connection.vendor == "postgresql"
        for sql in statements_pg if pg else statements_other:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("affiliates", "0001_registry")]

    operations = [
        migrations.RunPython(_run(PG_FORWARD, OTHER_FORWARD), _run(PG_BACKWARD, OTHER_BACKWARD)),
    ]
