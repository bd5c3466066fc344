from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmrConfig(AppConfig):
    name = "cmr"
    verbose_name = _("CMR gateway")

    def ready(self):
        # The outbox queues the send task by its name (cmr.outbox.SEND_TASK): it must be registered
        # with the Celery app in every process, the web one and eager mode too, not only in workers.
        from . import tasks  # noqa: F401
