"""Periodic work on accounts (Celery beat)."""

from celery import shared_task

from . import mail, services


@shared_task(name="accounts.lock_inactive_accounts", ignore_result=True)
def lock_inactive_accounts():
    """Daily: warn the accounts soon to be locked for inactivity, lock those past the limit."""
    services.lock_inactive_accounts()


@shared_task(name=mail.SEND_TASK, ignore_result=True)
def send_link_emails():
    """Send the activation and password-reset e-mails that are due (woken on commit, and every minute)."""
    mail.send_all_due()
