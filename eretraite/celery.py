"""The Celery application. Broker from REDIS_URL; with none, tasks run eagerly in-process."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eretraite.settings")

app = Celery("eretraite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fixup closes every database connection before and after each task unless this is
# set: a new PostgreSQL connection per task. Django's own rule decides instead (CONN_MAX_AGE,
# CONN_HEALTH_CHECKS), as it does around each web request: in production a worker thread keeps its
# connection and checks it before reuse; elsewhere (CONN_MAX_AGE 0) it closes it after each task.
app.conf["CELERY_DB_REUSE_MAX"] = 2**62


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs):
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()
