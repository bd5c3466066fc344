"""Periodic work on accounts (Celery beat)."""

from celery import shared_task

from . import services


@shared_task(name="accounts.lock_inactive_accounts", ignore_result=True)
def lock_inactive_accounts():
    """Daily: warn the accounts soon to be locked for inactivity, lock those past the limit."""
    services.lock_inactive_accounts()
