"""Print an API token for an account: ``create_api_token USERNAME [--rotate]``."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the API token of USERNAME (created if missing; --rotate replaces it)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="replace an existing token")

    def handle(self, *args, username, rotate, **options):
        from accounts.services import record_audit

        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        if not user.is_active:
            raise CommandError(f"The account {username!r} is disabled.")
        if rotate:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        if created:
            record_audit(
                "api.token_created", actor=None, target=user, collectivity=user.collectivity
            )
        self.stdout.write(token.key)
