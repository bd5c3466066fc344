"""Revoke an account's API tokens: ``revoke_api_token USERNAME PREFIX`` or ``--all``."""

from django.core.management.base import BaseCommand, CommandError

from accounts import api_tokens
from accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Revoke the API token of USERNAME whose key starts with PREFIX (as listed), or all of them (--all)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("prefix", nargs="?")
        parser.add_argument("--all", action="store_true")

    def handle(self, *args, username, prefix, all, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        if all:
            count = api_tokens.revoke_all(user)
        elif prefix:
            tokens = [t for t in ApiToken.objects.filter(user=user, revoked_at=None) if t.prefix.startswith(prefix)
                      or prefix.startswith(t.prefix)]
            if len(tokens) != 1:
                raise CommandError(f"{len(tokens)} active tokens of {username!r} match {prefix!r}; give one.")
            count = 1 if api_tokens.revoke(user, tokens[0].pk) else 0
        else:
            raise CommandError("Give the key's beginning (PREFIX) or --all.")
        self.stdout.write(f"{count} token(s) revoked.")
