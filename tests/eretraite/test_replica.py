"""The read replica (DATABASE_REPLICA_URL, alias "replica"): the searches and dashboards that ask for it read
there, everything else on default, and never where a read could miss what this request wrote. In the tests
the replica is a second connection to the test database (a mirror, as pytest-django sets one up when
DATABASE_REPLICA_URL is given); the queries each connection ran tell where a read went."""

import pytest
from django.contrib.sessions.models import Session
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Collectivity
from eretraite import db
from eretraite.db import for_reading, read_alias, reading_from_replica
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup):
    """The replica alias for this module's tests: the configured one, or a mirror of the test database
    (a second connection to it) added before the tests' database set-up asks for it, removed after."""
    added = "replica" not in connections.settings
    if added:
        default = connections.settings["default"]
        connections.settings["replica"] = {
            **default,
            "NAME": connections["default"].settings_dict["NAME"],
            "TEST": {**default["TEST"], "MIRROR": "default"},
        }
    yield
    if added:
        connections["replica"].close()
        del connections["replica"]
        del connections.settings["replica"]


@pytest.fixture
def replica():
    db.new_unit_of_work()
    yield connections["replica"]
    db.new_unit_of_work()


def on_each(block):
    """Run ``block``; return its result and the SQL each of default and replica ran meanwhile."""
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        result = block()
    return result, [q["sql"] for q in default.captured_queries], [q["sql"] for q in replica.captured_queries]


def regions():
    return Collectivity.objects.filter(kind="region").count()


def test_marked_reads_go_to_the_replica_the_others_to_default(replica):
    def marked():
        with reading_from_replica():
            return regions()

    assert replica.settings_dict["NAME"] == connections["default"].settings_dict["NAME"]  # the test database
    assert replica.settings_dict["NAME"].startswith("test_")
    count, on_default, on_replica = on_each(marked)
    assert count == 12  # the replica has the data (committed on default, replicated)
    assert on_default == [] and len(on_replica) == 1 and "accounts_collectivity" in on_replica[0]
    count, on_default, on_replica = on_each(regions)  # not marked: default
    assert count == 12 and len(on_default) == 1 and on_replica == []


def test_a_queryset_bound_for_reading_stays_on_the_replica_when_evaluated_later(replica):
    qs = for_reading(Collectivity.objects.filter(kind="region"))
    assert qs.db == "replica"
    count, on_default, on_replica = on_each(qs.count)
    assert count == 12 and on_default == [] and len(on_replica) == 1


def test_after_a_write_the_same_request_reads_from_default(replica):
    with reading_from_replica():
        assert read_alias() == "replica"
        ManagerFactory()  # this unit of work writes...
        assert read_alias() == "default"  # ...so its reads must see it: default
        count, on_default, on_replica = on_each(regions)
    assert count == 12 and len(on_default) == 1 and on_replica == []
    assert for_reading(Collectivity.objects.all()).db == "default"
    db.new_unit_of_work()  # the next request starts clean
    with reading_from_replica():
        assert read_alias() == "replica"


def test_inside_a_transaction_reads_stay_on_default(replica):
    with transaction.atomic(), reading_from_replica():
        assert read_alias() == "default"
        _count, on_default, on_replica = on_each(regions)
    assert len(on_default) == 1 and on_replica == []


def test_an_object_read_from_the_replica_is_written_to_default(replica):
    with reading_from_replica():
        council = Collectivity.objects.filter(kind="region").order_by("code").first()
    assert council._state.db == "replica"

    def save():
        council.save(update_fields=["name_fr"])
        return ManagerFactory(collectivity=council)  # a relation across the two aliases is allowed

    manager, on_default, on_replica = on_each(save)
    assert on_replica == [] and any(q.startswith("UPDATE") for q in on_default)
    assert manager._state.db == "default" and manager.collectivity_id == council.pk


def test_sessions_are_never_read_from_the_replica(replica):
    with reading_from_replica():
        assert db.ReplicaRouter().db_for_read(Session) is None
        assert for_reading(Session.objects.all()).db == "default"
        assert db.ReplicaRouter().db_for_read(Collectivity) == "replica"


def test_without_a_replica_everything_is_on_default(replica, monkeypatch):
    monkeypatch.delitem(connections.settings, "replica")  # DATABASE_REPLICA_URL not set
    with reading_from_replica():
        assert read_alias() == "default" and db.ReplicaRouter().db_for_read(Collectivity) is None
        assert for_reading(Collectivity.objects.all()).db == "default"
        _count, on_default, on_replica = on_each(regions)
    assert len(on_default) == 1 and on_replica == []


def test_each_request_and_task_starts_a_new_unit_of_work(client, replica):
    class Sender:  # what Celery passes task_prerun
        class request:  # noqa: N801
            is_eager = False

    db.mark_written()
    client.get("/healthz")  # a request starts: nothing written yet
    assert read_alias() == "replica"
    db.mark_written()
    Sender.request.is_eager = True  # a task run in its caller's request is part of its work
    db._task_starts(sender=Sender)
    assert read_alias() == "default"
    Sender.request.is_eager = False  # a worker's task starts clean
    db._task_starts(sender=Sender)
    assert read_alias() == "replica"


def test_the_home_dashboard_reads_from_the_replica(client, replica):
    from tests.dossiers.conftest import near_age_limit

    manager = ManagerFactory()
    near_age_limit(collectivity=manager.collectivity)  # the home page lists who nears the age limit
    client.force_login(manager)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        page = client.get(reverse("home"))
    assert page.status_code == 200
    read = " ".join(q["sql"] for q in on_replica.captured_queries)
    assert "dossiers_dossier" in read and "affiliates_affiliate" in read
    assert not any(q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) for q in on_replica.captured_queries)
