import os

import pytest
from django.conf import settings


def pytest_configure(config):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _services_required_under_ci():
    """Under CI the suite runs on PostgreSQL and Redis: a missing service fails, it is never skipped."""
    if os.environ.get("CI", "").lower() != "true":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    assert engine == "django.db.backends.postgresql", "CI must run on PostgreSQL (DATABASE_URL)"
    import redis

    assert settings.REDIS_URL, "CI must run with Redis (REDIS_URL)"
    redis.Redis.from_url(settings.REDIS_URL).ping()


@pytest.fixture(scope="session")
def _nowhere():
    """An address where nothing listens, for the back office of the tests that start none: never
    make run's default (127.0.0.1:8001), where a developer's mock may be running."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def clamd(tmp_path_factory):
    """A real clamd (tests/clamav.py) for this test process; its CLAMAV_URL."""
    from tests.clamav import start_clamd, stop

    process, url = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield url
    stop(process)


@pytest.fixture(scope="session")
def _scanner(request):
    """Every upload of the suite is scanned as in production, wherever clamd is installed (CI installs
    it; tests/eretraite/test_antivirus.py fails without it, the rest then runs unscanned)."""
    import shutil

    if shutil.which("clamd") or os.path.exists("/usr/sbin/clamd") or os.environ.get("CI", "").lower() == "true":
        return request.getfixturevalue("clamd")
    return ""


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database holds Morocco's real collectivities (1,590 councils), loaded once."""
    with django_db_blocker.unblock():
        from accounts.services import load_collectivities

        load_collectivities()


def _reference_data(_db=None):
    import importlib

    from django.apps import apps

    from accounts.models import Collectivity
    from accounts.services import load_collectivities
    from dossiers.models import DossierKind

    if not Collectivity.objects.exists():
        load_collectivities()
    if not DossierKind.objects.exists():
        importlib.import_module("dossiers.migrations.0002_seed_checklists").seed(apps, None)


@pytest.fixture(autouse=True)
def _collectivities_after_flush(request):
    """Transactional tests (live server, worker, browser) end with a flush: reload the reference data
    the migrations and the session set up (councils, seeded checklists) if it is gone."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not (transactional or {"transactional_db", "live_server"} & set(request.fixturenames)):
        if marker is not None:  # a test in a transaction that runs after a flush (a live server's test
            _reference_data(request.getfixturevalue("db"))  # ran before it on this worker): reload, rolled back
        return
    _reference_data(request.getfixturevalue("transactional_db"))


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process in tests, unless a test starts a real worker (it sets this back)."""
    from eretraite.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path, _scanner, _nowhere):
    settings.CLAMAV_URL = _scanner
    settings.CMR_BASE_URL = _nowhere
    # Nothing is trusted unless a test says so (tests.pki.pki_settings): never the demo PKI that a
    # `make run` in the same checkout writes to var/test-pki (its CA bears the test CA's very name).
    settings.SIGNATURES_TRUST_ROOTS, settings.SIGNATURES_INTERMEDIATES, settings.SIGNATURES_CRLS = [], [], []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Sessions read from the database, Redis or not: the pages' query counts include the session's read
    # (production reads it through Redis, "cached_db": tests/eretraite/test_scaling.py).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the site's default language: a request in Arabic through the test
    client leaves Arabic active in the thread, and the next test would read Arabic messages."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """``client.force_login(account)`` stands for a whole login: for an account asked a second factor,
    the session passes one too (with an application enrolled for it). A test of the second factor
    itself says ``force_login(account, second_factor=False)`` to stop between the two."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts import second_factor as rules
    from tests.otp import enrolled

    original = Client.force_login

    def force_login(self, user, backend=None, second_factor=True):
        original(self, user, backend)
        if second_factor and rules.is_needed(user):
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = enrolled(user).persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
