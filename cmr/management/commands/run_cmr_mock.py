"""``python manage.py run_cmr_mock --port 8001``: the mock CMR back office, defaults from settings.

The mock is a separate process with its own storage; this command only passes it the portal's
settings as defaults (callback URL, shared secret, data directory, admin token, the portal's
bearer token). The environment
and the flags win. Same options as ``python -m cmr.mock serve``.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from cmr.mock.cli import add_serve_arguments, serve_from_options


class Command(BaseCommand):
    help = "Run the mock CMR back office (a separate process with its own SQLite storage)."

    def add_arguments(self, parser):
        add_serve_arguments(parser, defaults={
            "data_dir": str(settings.CMR_MOCK_DATA_DIR),
            "callback_url": settings.CMR_MOCK_CALLBACK_URL,
            "secret": settings.CMR_CALLBACK_SECRET,
            "admin_token": settings.CMR_MOCK_ADMIN_TOKEN,
            "api_token": settings.CMR_API_TOKEN,
        })

    def handle(self, *args, **options):
        serve_from_options(options)
