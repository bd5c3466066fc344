"""Celery entry points of the CMR gateway; the logic is in ``cmr.services``."""

from celery import shared_task

from . import services


@shared_task(name="cmr.send_transmission", ignore_result=True)
def send_transmission(pk):
    return services.send_transmission(pk)


@shared_task(name="cmr.send_due_transmissions", ignore_result=True)
def send_due_transmissions():
    """Beat: queue every transmission that is due or stuck, so a lost message loses nothing."""
    pks = services.due_transmissions()
    for pk in pks:
        send_transmission.delay(pk)
    return len(pks)


@shared_task(name="cmr.reconcile", ignore_result=True)
def reconcile():
    """Beat: ask the back office for the stages of dossiers whose callbacks may have been lost."""
    return services.reconcile()
