"""Settings come from the environment; production passes `check --deploy`; the compose file is sound."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-8f3a9c1d2e",
    "DJANGO_ALLOWED_HOSTS": "e-retraite.example.ma",
    "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
    "CMR_CALLBACK_SECRET": "a-long-shared-secret-for-callbacks-0123456789",
    "SIGNATURES_SEAL_P12": "/run/secrets/seal.p12",
    "CMR_API_TOKEN": "a-long-bearer-token-for-the-cmr-back-office-0123",
}


def run_manage(*args, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_mode_passes_check_deploy_with_no_warning():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_its_secrets():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("change, named", [
    ({"CMR_CALLBACK_SECRET": "short-secret"}, "CMR_CALLBACK_SECRET"),
    ({"CMR_CALLBACK_SECRET": "x" * 31}, "CMR_CALLBACK_SECRET"),
    ({"SIGNATURES_SEAL_P12": ""}, "SIGNATURES_SEAL_P12"),
    ({"CMR_API_TOKEN": "short"}, "CMR_API_TOKEN"),
])
def test_production_refuses_a_short_secret_or_no_seal(change, named):
    env = {**PRODUCTION_ENV, **change}
    env = {k: v for k, v in env.items() if v != ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0 and named in result.stderr, result.stderr[-500:]


def test_production_cookies_are_secure():
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)")
    result = run_manage("shell", "-v", "0", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.split() == ["True", "True", "True", "True", "False"], result.stderr


def test_nothing_set_means_sqlite_and_an_embedded_celery():
    code = ("from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
            "s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER)")
    result = run_manage("shell", "-v", "0", "-c", code, env={})
    assert result.stdout.split() == ["django.db.backends.sqlite3", "memory://", "True"], result.stderr


def test_urls_select_postgresql_and_redis():
    code = ("from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
            "s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER)")
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/1"}
    result = run_manage("shell", "-v", "0", "-c", code, env=env)
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://127.0.0.1:6379/1", "False"]


def test_compose_file_describes_the_production_topology():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat", "cmr-mock"} <= set(services)
    assert services["cmr-mock"]["command"][:3] == ["python", "-m", "cmr.mock"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "eretraite", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "eretraite", "beat"]
    for name in ("db", "redis", "web", "worker", "beat", "cmr-mock"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert "DATABASE_URL" in env and "REDIS_URL" in env and "DJANGO_SECRET_KEY" in env
        assert "@db:5432/" in env["DATABASE_URL"] and env["REDIS_URL"].startswith("redis://redis:")
    # Only the TLS proxy is published; the mock back office, the database, the portal itself are not.
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    assert (ROOT / "deploy" / "Caddyfile").exists()
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert proxy_address in services["web"]["environment"]["TRUSTED_PROXIES"]
    # The portal authenticates to the back office, and the mock checks the same token; every upload
    # is scanned by the clamav service.
    assert services["web"]["environment"]["CMR_API_TOKEN"].startswith("${CMR_API_TOKEN:?")
    assert services["cmr-mock"]["environment"]["CMR_MOCK_API_TOKEN"].startswith("${CMR_API_TOKEN:?")
    assert services["worker"]["environment"]["CLAMAV_URL"].endswith("tcp://clamav:3310}")
    # No secret is written in the file: each comes from the environment.
    assert "${DJANGO_SECRET_KEY:?" in (ROOT / "docker-compose.yml").read_text()


def test_healthz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_arabic_pages_write_dates_day_first_on_a_24_hour_clock():
    import datetime as dt

    from django.utils import formats, translation

    moment = dt.datetime(2026, 11, 23, 19, 22)
    with translation.override("ar"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "23/11/2026 19:22"
        assert formats.date_format(moment.date(), "SHORT_DATE_FORMAT") == "23/11/2026"
    with translation.override("fr"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "23/11/2026 19:22"
