from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmrConfig(AppConfig):
    name = "cmr"
    verbose_name = _("CMR gateway")
