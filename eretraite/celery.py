"""The Celery application. Broker from REDIS_URL; with none, tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eretraite.settings")

app = Celery("eretraite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
