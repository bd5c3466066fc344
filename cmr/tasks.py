"""Celery entry points of the CMR gateway; the logic is in ``cmr.services``."""

from celery import shared_task

from . import services


@shared_task(name="cmr.send_transmission", ignore_result=True)
def send_transmission(pk):
    """Send this transmission with a batch of others (``cmr.services.send_transmissions``); ``None``
    (a kick): send batches until nothing is due (``cmr.services.drain``)."""
    if pk is None:
        services.drain()
    else:
        services.send_transmissions(pk)


@shared_task(name="cmr.send_due_transmissions", ignore_result=True)
def send_due_transmissions():
    """Beat: if any transmission is due or stuck (a lost message, a worker gone), queue a kick: it sends
    batches until none is left, calling other threads in while batches come full."""
    pks = services.due_transmissions()
    if pks:
        services.publish(None)  # not through the kick key: a key whose task was lost must not stop this
    return len(pks)


@shared_task(name="cmr.reconcile", ignore_result=True)
def reconcile():
    """Beat: ask the back office for the stages of dossiers whose callbacks may have been lost."""
    return services.reconcile()
