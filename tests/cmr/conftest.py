import pytest

from tests.cmr_mock import callback_receiver, cmr_mock, cmr_mock_factory  # noqa: F401


def pytest_configure(config):
    config.addinivalue_line("markers", "fault: the outbox fault test (real Celery workers, Redis restart)")


def _seed_checklists():
    from django.apps import apps

    from dossiers.models import DossierKind

    if not DossierKind.objects.exists():
        import importlib

        importlib.import_module("dossiers.migrations.0002_seed_checklists").seed(apps, None)


@pytest.fixture(autouse=True)
def _checklists_around_flush(request):
    """A transactional test flushes the database at its end, migration-seeded checklists included:
    seed them before it (an earlier one flushed them) and after it (for the tests that follow)."""
    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames \
            and not any(m.kwargs.get("transaction") for m in request.node.iter_markers("django_db")):
        yield
        return
    request.getfixturevalue("transactional_db")
    _seed_checklists()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, put back what the tests that follow expect (collectivities,
    checklists), so tests of other folders running after this one find their database as set up."""
    yield
    transactional = ({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))) or any(
        m.kwargs.get("transaction") for m in item.iter_markers("django_db"))
    if not transactional or nextitem is None:  # the last test: the test database is gone already
        return
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        from accounts.models import Collectivity
        from accounts.services import load_collectivities

        if not Collectivity.objects.exists():
            load_collectivities()
        _seed_checklists()
