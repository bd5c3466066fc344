"""Reads that may go to the read replica (``DATABASE_REPLICA_URL``, the alias ``replica``).

Only what asks for it reads from the replica, the searches and the dashboards:

    with reading_from_replica():          # or @reading_from_replica() on a selector
        rows = list(Affiliate.objects.filter(...))
    qs = for_reading(Affiliate.objects.filter(...))   # a queryset bound to the replica now
    connections[read_alias()].cursor()                # raw SQL of such a read

and even then the read goes to ``default`` when the replica could miss what this request wrote:

- inside a transaction on ``default`` (its writes are not committed, the replica cannot have them);
- after this request, or this Celery task, wrote anything (a replica lags a little: a page that just
  saved something shows it);
- for sessions (a session written by the login's request is read back by the next one at once);
- with no replica configured.

Every write goes to ``default`` (``ReplicaRouter.db_for_write``), an object read from the replica too.
The "this unit of work wrote" mark is cleared when a request starts and when a worker starts a task.
"""

import contextlib
import contextvars

from celery.signals import task_prerun
from django.core.signals import request_started
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
# Apps whose rows a request must read back at once, wherever it runs.
NEVER_FROM_REPLICA = frozenset({"sessions"})

_reading = contextvars.ContextVar("eretraite_reading_from_replica", default=False)
_wrote = contextvars.ContextVar("eretraite_wrote", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _replica_usable() -> bool:
    return replica_configured() and not _wrote.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block


def read_alias() -> str:
    """The alias a read of a search or a dashboard should use now: ``replica`` when it is safe."""
    return REPLICA if _replica_usable() else DEFAULT_DB_ALIAS


def for_reading(qs):
    """``qs`` bound now to the alias ``read_alias()`` names (evaluated later, it stays there)."""
    if qs.model._meta.app_label in NEVER_FROM_REPLICA:
        return qs.using(DEFAULT_DB_ALIAS)
    return qs.using(read_alias())


class reading_from_replica(contextlib.ContextDecorator):  # noqa: N801 (used as a context manager)
    """Inside it, the ORM's reads go to the replica when it is safe (see the module's rules)."""

    def _recreate_cm(self):  # as a decorator: one context per call (threads share the decorated function)
        return type(self)()

    def __enter__(self):
        self._token = _reading.set(True)
        return self

    def __exit__(self, *exc):
        _reading.reset(self._token)
        return False


def mark_written() -> None:
    """This request (or task) wrote: its further reads stay on ``default``."""
    _wrote.set(True)


def new_unit_of_work(**kwargs) -> None:
    """A request or a task starts: nothing written yet."""
    _wrote.set(False)


class ReplicaRouter:
    """``DATABASE_ROUTERS``: reads inside ``reading_from_replica()`` to the replica when safe, every write
    to ``default``; objects of both aliases may be related (they are the same data)."""

    def db_for_read(self, model, **hints):
        if _reading.get() and model._meta.app_label not in NEVER_FROM_REPLICA and _replica_usable():
            return REPLICA
        return None  # Django's own choice: the database the instance came from, else default

    def db_for_write(self, model, **hints):
        mark_written()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows default's schema by replication


request_started.connect(new_unit_of_work, dispatch_uid="eretraite.db.new_unit_of_work")


@task_prerun.connect
def _task_starts(sender=None, **kwargs):
    if not getattr(getattr(sender, "request", None), "is_eager", False):  # an eager task is its caller's work
        new_unit_of_work()
