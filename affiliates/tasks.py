"""Periodic work on the affiliate registry (Celery beat)."""

from celery import shared_task

from . import services


@shared_task(name="affiliates.purge_kept_documents", ignore_result=True)
def purge_kept_documents():
    """Hourly: remove the supporting PDFs kept for correction requests that were never completed."""
    services.purge_kept_documents()
