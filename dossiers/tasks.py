"""Celery entry points of the dossiers app: thin, calling services."""

from celery import shared_task

from . import notifications


@shared_task(ignore_result=True)
def notify_stage_change(dossier_id, event_id):
    notifications.send_stage_change(dossier_id, event_id)
