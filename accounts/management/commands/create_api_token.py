"""Make an API token for an account and print its key (shown only now): ``create_api_token USERNAME``."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import api_tokens
from accounts.models import ApiToken, Collectivity, User


class Command(BaseCommand):
    help = ("Make an API token for USERNAME and print its key, which is stored only hashed and shown only "
            "now. Read and write unless --scope read; narrowed to the account's collectivity, or to "
            "--collectivity CODE for an account that sees several.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for (default: %(default)s)")
        parser.add_argument("--scope", choices=["read", "read-write"], default="read-write")
        parser.add_argument("--collectivity", metavar="CODE", help="the HCP code of the one collectivity it sees")
        parser.add_argument("--days", type=int, default=None, help="validity (default: API_TOKEN_VALID_DAYS)")
        parser.add_argument("--rotate", action="store_true", help="revoke the account's tokens of this name first")

    def handle(self, *args, username, name, scope, collectivity, days, rotate, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        if not user.is_active:
            raise CommandError(f"The account {username!r} is disabled.")
        where = None
        if collectivity:
            where = Collectivity.objects.filter(code=collectivity).first()
            if where is None:
                raise CommandError(f"No collectivity with the code {collectivity!r}.")
        if rotate:
            api_tokens.revoke_all(user, name=name)
        try:
            _token, key = api_tokens.issue(
                user, name=name, scope=ApiToken.Scope.READ if scope == "read" else ApiToken.Scope.READ_WRITE,
                collectivity=where, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(key)
