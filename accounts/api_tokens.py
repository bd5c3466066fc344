"""API tokens: keys another HR application uses for the REST API in an account's name.

A key is random, shown once when made, and only its SHA-256 is stored. Each token is named, read-only
or read-write, narrowed to one collectivity of the account's scope (or, for an account that sees
several, to all of them when asked), expires (``API_TOKEN_VALID_DAYS``, a year by default), can be
revoked, and keeps when and from where it was last used. A token never holds more than its account:
``ApiTokenAuthentication`` hands the API the account with its token attached (``user.api_token``),
and the capability table (``accounts.permissions.rule_of``) and the scoping selector
(``accounts.selectors.visible_collectivities``) narrow by it. Each token has its own rate limit
(``PerTokenThrottle``, ``API_TOKEN_RATE``). Its use counts as the account's activity.
"""

import secrets
from datetime import UTC, timedelta

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.throttling import SimpleRateThrottle

from eretraite.network import client_ip

from .models import ApiToken, Collectivity, User
from .permissions import NOBODY, Scope, rule_of, scope_of
from .services import record_audit, secret_hash

KEY_PREFIX = "ert_"
KEYWORDS = (b"token", b"bearer")
NAME_MAX_LENGTH = 100
# How often the last use is written (a busy application would otherwise write on every request).
LAST_USE_PRECISION = timedelta(minutes=1)


def may_have_tokens(user) -> bool:
    """Whether ``user`` may make API tokens: an active account with a role (its tokens hold what it holds)."""
    return rule_of(user) is not NOBODY


def tokens_of(user):
    """The account's tokens, newest first (revoked and expired ones included, to be seen as such)."""
    return ApiToken.objects.filter(user=user).select_related("collectivity").order_by("-created_at")


def collectivity_choices(user):
    """The collectivities a token of ``user`` may be narrowed to: those of his scope."""
    from .selectors import visible_collectivities

    return visible_collectivities(user).order_by("kind", "name_fr")


def must_name_a_collectivity(user) -> bool:
    """An account that sees one collectivity makes tokens for that one; one that sees several may ask
    for all of them (a provincial office's application serving its communes, the CMR's)."""
    return scope_of(user) == Scope.OWN


def issue(user: User, *, name: str, scope: str = ApiToken.Scope.READ, collectivity: Collectivity | None = None,
          days: int | None = None, by: User | None = None, ip=None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns it and its key (the only time the key exists in clear).
    Refuses (``ValidationError``, in the user's language) what the account could not do itself."""
    name = (name or "").strip()
    days = settings.API_TOKEN_VALID_DAYS if days is None else days
    errors = {}
    if not user.is_active or not may_have_tokens(user):
        errors["user"] = _("This account may not have API tokens.")
    if not name:
        errors["name"] = _("Give the token a name (the application that will use it).")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("The name is too long (at most %(n)d characters).") % {"n": NAME_MAX_LENGTH}
    if scope not in ApiToken.Scope.values:
        errors["scope"] = _("Choose read only, or read and write.")
    if not 1 <= days <= settings.API_TOKEN_VALID_DAYS:
        errors["days"] = _("A token is valid from 1 to %(n)d days.") % {"n": settings.API_TOKEN_VALID_DAYS}
    if must_name_a_collectivity(user):
        if collectivity is not None and collectivity.pk != user.collectivity_id:
            errors["collectivity"] = _("This collectivity is not in your scope.")
        collectivity = user.collectivity
    elif collectivity is not None and not collectivity_choices(user).filter(pk=collectivity.pk).exists():
        errors["collectivity"] = _("This collectivity is not in your scope.")
    if errors:
        raise ValidationError(errors)
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=key[:12], key_hash=secret_hash(key), scope=scope, collectivity=collectivity,
            created_by=by or user, expires_at=timezone.now() + timedelta(days=days))
        record_audit("api.token_created", actor=by or user, target=user, collectivity=user.collectivity, ip=ip, data={
            "token": token.pk, "name": name, "scope": scope, "prefix": token.prefix,
            "collectivity": collectivity.code if collectivity else None, "expires_at": token.expires_at.isoformat()})
    return token, key


def revoke(user: User, pk, *, by: User | None = None, ip=None) -> ApiToken | None:
    """Revoke the token ``pk`` of ``user`` (None if he has no such token still active)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(user=user, pk=pk, revoked_at=None).first()
        if token is None:
            return None
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_audit("api.token_revoked", actor=by or user, target=user, collectivity=user.collectivity, ip=ip,
                     data={"token": token.pk, "name": token.name, "prefix": token.prefix})
    return token


def revoke_all(user: User, *, by=None, ip=None, name: str | None = None) -> int:
    """Revoke every active token of ``user`` (of that ``name`` only, when given)."""
    tokens = ApiToken.objects.filter(user=user, revoked_at=None)
    if name is not None:
        tokens = tokens.filter(name=name)
    return sum(1 for pk in list(tokens.values_list("pk", flat=True)) if revoke(user, pk, by=by, ip=ip))


TOKEN_COLUMNS = ("id", "name", "prefix", "scope", "collectivity_id", "expires_at", "revoked_at", "last_used_at",
                 "last_used_ip")
TOKEN_QUERY = (
    "SELECT u.*, t.id AS token_id, t.name AS token_name, t.prefix AS token_prefix, t.scope AS token_scope, "
    "t.collectivity_id AS token_collectivity_id, t.expires_at AS token_expires_at, "
    "t.revoked_at AS token_revoked_at, t.last_used_at AS token_last_used_at, t.last_used_ip AS token_last_used_ip "
    "FROM accounts_user u JOIN accounts_apitoken t ON t.user_id = u.id WHERE t.key_hash = %s")


def _column(name, value):
    """A token column read by the raw query as the ORM would give it: the backend converts only the
    model's own columns, so on SQLite the dates of the joined token come as naive UTC (or text)."""
    if name.endswith("_at") and value is not None:
        value = ApiToken._meta.get_field(name).to_python(value)
        if timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
    return value


def _token_and_account(key_hash: str) -> ApiToken | None:
    """The token of this hash with its account, in one plain query (the ORM's select_related compile
    cost a fifth of an exact lookup's time budget)."""
    users = list(User.objects.raw(TOKEN_QUERY, [key_hash]))
    if not users:
        return None
    user = users[0]
    values = {c: _column(c, getattr(user, f"token_{c}")) for c in TOKEN_COLUMNS}
    token = ApiToken(user=user, key_hash=key_hash, **values)
    for c in TOKEN_COLUMNS:
        delattr(user, f"token_{c}")
    return token


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` (or ``Bearer <key>``): the token's account, with the token."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be \"Token\" followed by the key."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This API token is not valid.")) from None
        token = _token_and_account(secret_hash(key))
        now = timezone.now()
        if token is None:
            raise exceptions.AuthenticationFailed(_("This API token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API token was revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                _("This API token expired on %(date)s. Make a new one on your security page.")
                % {"date": formats.date_format(timezone.localtime(token.expires_at), "SHORT_DATE_FORMAT")})
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("The account of this API token is disabled."))
        if token.last_used_at is None or now - token.last_used_at >= LAST_USE_PRECISION:
            ip = client_ip(request._request) or None
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
            token.last_used_at, token.last_used_ip = now, ip
        user.api_token = token
        return user, token

    def authenticate_header(self, request):
        return "Token"


def _count(key: str, seconds: int) -> int:
    """Add one to the counter ``key`` (kept ``seconds``) and return it: one round trip to Redis."""
    backend = getattr(default_cache, "_cache", None)
    if hasattr(backend, "get_client"):  # Django's Redis cache
        full = default_cache.make_and_validate_key(key)
        pipe = backend.get_client(full, write=True).pipeline()
        pipe.incr(full)
        pipe.expire(full, seconds)
        return pipe.execute()[0]
    default_cache.add(key, 0, seconds)
    return default_cache.incr(key)


class PerTokenThrottle(SimpleRateThrottle):
    """Each token's own rate (``API_TOKEN_RATE``); sessions (people at a browser) are not counted.

    A counter per token and window of the rate's duration (a minute): one Redis round trip per request,
    where DRF's default keeps, reads and rewrites the time of each of the last 600 requests."""

    scope = "api_token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        return _count(f"{key}:{window}", self.duration + 1) <= self.num_requests

    def wait(self):
        return max(self.wait_seconds, 1)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the API schema describes the tokens."""

    target_class = "accounts.api_tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'An API token made on the security page: "Token <key>" (or "Bearer <key>").'}
