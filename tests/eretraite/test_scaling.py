"""Past one machine: files in a private S3-compatible bucket when one is named, sessions read through Redis,
a read replica when its URL is given, and the compose file running several web and worker processes
behind the proxy. Each setting read from the environment as production reads it."""

import json
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.eretraite.test_settings_and_deploy import run_manage
from tests.factories import ManagerFactory

ROOT = Path(settings.BASE_DIR)

SHOW = """
import json
from django.conf import settings as s
from django.core.files.storage import storages
options = s.STORAGES["default"].get("OPTIONS", {})
print(json.dumps({
    "backend": type(storages["default"]).__name__,
    "options": {k: v for k, v in options.items() if k != "client_config"},
    "signature": getattr(options.get("client_config"), "signature_version", None),
    "sessions": s.SESSION_ENGINE,
    "databases": {alias: d.get("TEST", {}).get("MIRROR") for alias, d in s.DATABASES.items()},
    "routers": s.DATABASE_ROUTERS,
}))
"""


def shown(env) -> dict:
    result = run_manage("shell", "-v", "0", "-c", SHOW, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_means_local_files_database_sessions_and_one_database():
    seen = shown({})
    assert seen["backend"] == "FileSystemStorage"
    assert seen["sessions"] == "django.contrib.sessions.backends.db"
    assert seen["databases"] == {"default": None} and seen["routers"] == ["eretraite.db.ReplicaRouter"]


def test_a_bucket_means_a_private_s3_storage():
    seen = shown(
        {
            "AWS_STORAGE_BUCKET_NAME": "eretraite-docs",
            "AWS_S3_ENDPOINT_URL": "https://s3.example.ma",
            "AWS_S3_REGION_NAME": "eu-west-3",
        }
    )
    assert seen["backend"] == "S3Storage"
    options = seen["options"]
    assert options["bucket_name"] == "eretraite-docs" and options["endpoint_url"] == "https://s3.example.ma"
    assert options["default_acl"] == "private"  # never public-read
    assert options["querystring_auth"] is True and options["querystring_expire"] <= 300  # no unsigned URL
    assert options["file_overwrite"] is False  # a name taken is never overwritten, as on the disk
    assert options["object_parameters"] == {"ChecksumAlgorithm": "SHA256"}  # the server checks each upload
    assert seen["signature"] == "s3v4"
    # A bucket whose ACLs are disabled: no ACL sent; a service without checksums: none asked.
    seen = shown({"AWS_STORAGE_BUCKET_NAME": "b", "AWS_DEFAULT_ACL": "", "AWS_S3_CHECKSUM_ALGORITHM": ""})
    assert seen["options"]["default_acl"] is None and seen["options"]["object_parameters"] == {}


def test_redis_means_sessions_read_through_redis_and_kept_in_the_database():
    seen = shown({"REDIS_URL": "redis://127.0.0.1:6379/1"})
    assert seen["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_a_replica_url_adds_the_replica_alias_a_mirror_in_tests():
    seen = shown(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/eretraite",
            "DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/eretraite",
        }
    )
    assert seen["databases"] == {"default": None, "replica": "default"}


def test_compose_runs_several_web_and_worker_processes_behind_the_proxy_files_in_s3():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["web"]["deploy"]["replicas"].startswith("${WEB_REPLICAS:-")
    assert int(services["web"]["deploy"]["replicas"].split(":-")[1].rstrip("}")) >= 2
    assert int(services["worker"]["deploy"]["replicas"].split(":-")[1].rstrip("}")) >= 2
    assert services["beat"]["deploy"]["replicas"] == 1  # one scheduler, never more
    for name in ("web", "worker", "beat", "migrate"):
        service = services[name]
        assert "container_name" not in service and not service.get("ports")
        env = service["environment"]
        assert "MEDIA_ROOT" not in env and not service.get("volumes")  # nothing kept on one machine
        assert env["AWS_STORAGE_BUCKET_NAME"].startswith("${AWS_STORAGE_BUCKET_NAME")
        assert env["AWS_SECRET_ACCESS_KEY"].startswith("${AWS_SECRET_ACCESS_KEY:?")  # from the environment
        assert "DATABASE_REPLICA_URL" in env and env["REDIS_URL"].startswith("redis://redis:")
    # Self-hosted storage is optional (a profile); the proxy balances over every web process by name.
    assert services["minio"]["profiles"] == ["minio"] and services["minio-init"]["profiles"] == ["minio"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "dynamic a" in caddyfile and "name web" in caddyfile and "lb_policy" in caddyfile
    assert "reverse_proxy web:8000" not in caddyfile


@pytest.mark.django_db
def test_a_session_opened_on_one_web_process_is_read_on_another_and_outlives_its_cache(client, settings):
    """Two web processes share nothing but the cookie, Redis and the database: the session the login
    wrote is read by the other from the cache, and from the database once the cache lost it."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(ManagerFactory())
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key

    def home():
        with CaptureQueriesContext(connection) as queries:
            page = other.get(reverse("home"))
        assert page.status_code == 200  # logged in there too (not sent to the login page)
        return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]

    assert home() == []  # from the cache: no query for the session
    cache.delete(SessionStore(session_key=key).cache_key)  # Redis restarted, or the key evicted
    assert home() != []  # read from the database: still logged in
