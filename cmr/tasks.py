"""Celery entry points of the CMR gateway; the logic is in ``cmr.sender`` (sending), ``cmr.stages``
(reconciliation) and ``cmr.outbox`` (queueing). Registered when the app is ready (``cmr.apps``)."""

from celery import shared_task

from . import outbox, selectors, sender, stages


@shared_task(name=outbox.SEND_TASK, ignore_result=True)
def send_transmission(pk):
    """Send this transmission with a batch of others (``cmr.sender.send_transmissions``); ``None``
    (a kick): send batches until nothing is due (``cmr.sender.drain``)."""
    if pk is None:
        sender.drain()
    else:
        sender.send_transmissions(pk)


@shared_task(name="cmr.send_due_transmissions", ignore_result=True)
def send_due_transmissions():
    """Beat: if any transmission is due or stuck (a lost message, a worker gone), queue a kick: it sends
    batches until none is left, calling other threads in while batches come full."""
    pks = selectors.due_transmissions()
    if pks:
        outbox.publish(None)  # not through the kick key: a key whose task was lost must not stop this
    return len(pks)


@shared_task(name="cmr.reconcile", ignore_result=True)
def reconcile():
    """Beat: ask the back office for the stages of dossiers whose callbacks may have been lost."""
    return stages.reconcile()
