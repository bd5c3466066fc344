"""Celery entry points of the support app: thin, calling its mail module."""

from celery import shared_task

from . import mail


@shared_task(name="support.notify_answered", ignore_result=True)
def notify_answered(pk):
    """E-mail the asker that his support request was answered."""
    mail.send_answered(pk)


@shared_task(name="support.notify_new_request", ignore_result=True)
def notify_new_request(pk):
    """E-mail the support desk's mailbox (SUPPORT_NOTIFY_EMAILS) that a request was written."""
    mail.send_new_request(pk)
