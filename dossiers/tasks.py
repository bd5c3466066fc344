"""Celery entry points of the dossiers app: thin, calling services."""

from celery import shared_task

from . import notifications


@shared_task(ignore_result=True)
def notify_stage_changes(pairs):
    """E-mails for stage-change events; ``pairs``: [(dossier id, event id), ...]."""
    notifications.send_stage_changes(pairs)


@shared_task(ignore_result=True)
def notify_stage_change(dossier_id, event_id):
    """The former one-event task: messages queued before an upgrade are still sent."""
    notifications.send_stage_changes([(dossier_id, event_id)])


@shared_task(ignore_result=True)
def notify_delivery_failed(dossier_id):
    """E-mail the collectivity that its certified dossier could not be delivered to the CMR."""
    notifications.send_delivery_failed(dossier_id)
