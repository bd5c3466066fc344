from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Collectivities and accounts")

    def ready(self):
        from .admin import unregister_library_admins

        unregister_library_admins()
