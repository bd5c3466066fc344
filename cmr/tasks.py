"""Celery entry points of the CMR gateway; the logic is in ``cmr.services``."""

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(name="cmr.send_transmission", ignore_result=True)
def send_transmission(pk):
    """Send this transmission (None: any due) with a batch of others (``cmr.services.send_transmissions``)."""
    services.send_transmissions(pk)


@shared_task(name="cmr.send_due_transmissions", ignore_result=True)
def send_due_transmissions():
    """Beat: queue every transmission that is due or stuck, so a lost message loses nothing (one task
    per batch: each claims a batch)."""
    pks = services.due_transmissions()
    for _batch in pks[::settings.CMR_SEND_BATCH]:
        send_transmission.delay(None)
    return len(pks)


@shared_task(name="cmr.reconcile", ignore_result=True)
def reconcile():
    """Beat: ask the back office for the stages of dossiers whose callbacks may have been lost."""
    return services.reconcile()
