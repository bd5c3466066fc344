"""Celery entry points of the dossiers app: thin, calling services."""

from celery import shared_task

from . import notifications


@shared_task(ignore_result=True)
def notify_stage_changes(pairs):
    """E-mails for stage-change events; ``pairs``: [(dossier id, event id), ...]."""
    notifications.send_stage_changes(pairs)
