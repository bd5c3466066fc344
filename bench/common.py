"""Helpers shared by the benchmarks: a database of their own, migrated, with the collectivities."""

import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection


def ensure_database():
    """Create the benchmark database if needed (PostgreSQL), migrate it, load the collectivities."""
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        import psycopg

        admin = psycopg.connect(host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432,
                                user=db.get("USER") or "postgres", password=db.get("PASSWORD") or None,
                                dbname="postgres", autocommit=True)
        with admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    call_command("migrate", verbosity=0, interactive=False)
    from accounts.services import load_collectivities

    load_collectivities()


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
