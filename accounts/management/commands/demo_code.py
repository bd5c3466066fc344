"""The demo accounts' current second-factor code, for trying `make run` without a phone."""

import base64

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from accounts.management.commands.load_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the six-digit code the demo accounts' authenticator application shows now (development only)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to print second-factor codes in production mode.")
        code = TOTP(base64.b32decode(DEMO_TOTP_SECRET)).token()
        self.stdout.write(f"{code:06d}")
