from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AffiliatesConfig(AppConfig):
    name = "affiliates"
    verbose_name = _("Affiliate registry")

    def ready(self):
        # The name search's ``%`` operator (pg_trgm), without installing django.contrib.postgres.
        from django.contrib.postgres.lookups import TrigramSimilar
        from django.db.models import CharField

        CharField.register_lookup(TrigramSimilar)
