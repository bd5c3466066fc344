"""Settings, read from the environment only (12-factor).

Modes (``DJANGO_ENV``):
- ``development`` (default): SQLite and an embedded Celery unless DATABASE_URL / REDIS_URL are set,
  a fixed development secret, e-mails printed on the console.
- ``production``: every secret and host comes from the environment; secure cookies, HSTS and
  HTTPS redirect; ``manage.py check --deploy`` passes with no warning.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
    DEBUG = False
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="development-only-secret-key-never-use-in-production-0123456789"
    )
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
    DEBUG = env.bool("DJANGO_DEBUG", default=True)

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc's files, served locally (the API docs work offline)
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "affiliates",
    "dossiers",
    "signatures",
    "cmr",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "eretraite.uploads.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "eretraite.guards.NullCharacterMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:  # runserver serves static files in development
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "eretraite.urls"
WSGI_APPLICATION = "eretraite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "eretraite.context_processors.portal",
            ],
            "builtins": ["eretraite.formatting"],  # |amount in every template
        },
    },
]

# Database: SQLite with nothing set; PostgreSQL (or anything dj-database-url reads) from DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# A read replica (a streaming standby of the same PostgreSQL): the alias "replica", read only by the
# searches and dashboards that ask for it (eretraite.db.reading_from_replica); writes, transactions
# and a request that wrote always stay on default. In tests it mirrors the default test database.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {**env.db_url_config(DATABASE_REPLICA_URL), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["eretraite.db.ReplicaRouter"]
# Persistent connections in production (a Celery worker otherwise reconnects for every task), checked
# before reuse so a restarted database costs one failed check, not a failed request or task.
for _database in DATABASES.values():
    _database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60 if PRODUCTION else 0)
    _database["CONN_HEALTH_CHECKS"] = True
    _database["ATOMIC_REQUESTS"] = False
    if "postgresql" in _database["ENGINE"]:
        # No JIT compilation: the portal's queries are short, and a large table's cost estimate made
        # PostgreSQL spend 14 ms compiling a search that runs in 1 ms.
        _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The second factor (accounts/second_factor.py): TOTP with recovery codes, for the roles the capability
# table names; a browser may be trusted for SECOND_FACTOR_TRUST_DAYS.
OTP_TOTP_ISSUER = "e-retraite"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SECOND_FACTOR_TRUST_DAYS = env.int("SECOND_FACTOR_TRUST_DAYS", default=30)
# The password's life: reset links, and accounts locked after a long time unused (warned before).
PASSWORD_RESET_LINK_VALID_HOURS = env.int("PASSWORD_RESET_LINK_VALID_HOURS", default=2)
PASSWORD_RESET_INTERVAL_MINUTES = env.int("PASSWORD_RESET_INTERVAL_MINUTES", default=5)
ACCOUNT_INACTIVITY_DAYS = env.int("ACCOUNT_INACTIVITY_DAYS", default=180)
ACCOUNT_INACTIVITY_WARNING_DAYS = env.int("ACCOUNT_INACTIVITY_WARNING_DAYS", default=14)

# Login safety (django-axes): lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Internationalisation: French and Arabic; the browser's language first, then the user's choice.
LANGUAGE_CODE = "fr"
FORMAT_MODULE_PATH = ["eretraite.formats"]  # Arabic date-time formats (Django's locale has none)
LANGUAGES = [("fr", _("French")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Stored files (documents, slips, correction proofs): the local disk (MEDIA_ROOT) by default; a private
# S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set (eretraite/storage.py), so that several web and
# worker machines share them. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the
# machine's role); AWS_S3_ENDPOINT_URL names a service other than AWS's (MinIO, Ceph, Scaleway, OVH...).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    from eretraite.storage import s3_storage  # noqa: E402

    STORAGES["default"] = s3_storage(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
        region=env.str("AWS_S3_REGION_NAME", default=""),
        location=env.str("AWS_LOCATION", default=""),
        acl=env.str("AWS_DEFAULT_ACL", default="private"),
        checksum=env.str("AWS_S3_CHECKSUM_ALGORITHM", default="SHA256"),
        encryption=env.str("AWS_S3_SERVER_SIDE_ENCRYPTION", default=""),
        addressing_style=env.str("AWS_S3_ADDRESSING_STYLE", default=""),
        connect_timeout=env.float("AWS_S3_CONNECT_TIMEOUT", default=5.0),
        read_timeout=env.float("AWS_S3_READ_TIMEOUT", default=60.0),
    )
# Uploads go to temporary files as they stream (eretraite/uploads.py), each stopped at
# UPLOAD_MAX_BYTES; a whole request over REQUEST_MAX_BYTES is refused before it is read.
FILE_UPLOAD_HANDLERS = ["eretraite.uploads.LimitedUploadHandler"]
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# Every upload is scanned by clamd when this is set (unix:///run/clamav/clamd.ctl, tcp://host:3310);
# a scanner that gives no verdict in CLAMAV_TIMEOUT seconds refuses the upload (eretraite.antivirus).
CLAMAV_URL = env.str("CLAMAV_URL", default="")
CLAMAV_TIMEOUT = env.float("CLAMAV_TIMEOUT", default=30)
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=110 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # form fields other than files

# E-mail: console in development, SMTP (EMAIL_URL) in production.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if not PRODUCTION else "smtp://localhost:25"
)
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)  # a hung mail server never holds a worker for long
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="e-retraite <no-reply@e-retraite.local>")
# Public address used in the links e-mails carry (activation).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Redis and Celery. With no REDIS_URL, tasks run in-process (eager): nothing else to start.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "eretraite"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "accounts-lock-inactive": {"task": "accounts.lock_inactive_accounts", "schedule": 24 * 3600},
    "accounts-send-link-emails": {"task": "accounts.send_link_emails",
                                  "schedule": env.float("LINK_EMAIL_SWEEP_SECONDS", default=60.0)},
}
# The link e-mails' outbox (accounts/mail.py): retried 1 min after a failure, then doubling up to an
# hour, 12 times (about half a day); then shown as failed for the DGCT to send again.
LINK_EMAIL_RETRY_BASE_SECONDS = env.float("LINK_EMAIL_RETRY_BASE_SECONDS", default=60.0)
LINK_EMAIL_RETRY_MAX_SECONDS = env.float("LINK_EMAIL_RETRY_MAX_SECONDS", default=3600.0)
LINK_EMAIL_MAX_ATTEMPTS = env.int("LINK_EMAIL_MAX_ATTEMPTS", default=12)
LINK_EMAIL_BATCH = env.int("LINK_EMAIL_BATCH", default=200)
# Correction requests (affiliates): the supporting PDF of a request refused for another field is kept,
# so that the officer does not choose it again, for this many hours; an hourly task removes older ones.
CORRECTION_KEPT_DOCUMENT_HOURS = env.int("CORRECTION_KEPT_DOCUMENT_HOURS", default=24)
CELERY_BEAT_SCHEDULE["affiliates-purge-kept-documents"] = {"task": "affiliates.purge_kept_documents",
                                                           "schedule": 3600}

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)
# Sessions: in the database, read through the Redis cache when there is one ("cached_db"): any web
# process serves any request (none keeps a session of its own), a session costs no query once cached,
# and a Redis restart or eviction logs nobody out (the database still holds every session).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each API token has its own rate; a person's session is not throttled.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api_tokens.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": env.str("API_TOKEN_RATE", default="600/min")},
    # Logged in, and holding the capability the view names (accounts.permissions).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "accounts.permissions.HasCapability"],
    "DEFAULT_PARSER_CLASSES": ["eretraite.api.JSONBodyParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API error in one shape, in the caller's language (eretraite.api).
    "EXCEPTION_HANDLER": "eretraite.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-retraite API",
    "DESCRIPTION": "Pension dossiers of territorial collectivities (CMR civil pensions regime).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "AffiliateStatusEnum": "affiliates.models.Affiliate.Status",
        "CorrectionStatusEnum": "affiliates.models.CorrectionRequest.Status",
        "DossierStateEnum": "dossiers.workflow.State",
    },
}

# Accounts and provisioning.
API_TOKEN_VALID_DAYS = env.int("API_TOKEN_VALID_DAYS", default=365)
# The proxies whose X-Forwarded-For is believed (addresses or networks): the client's address is read
# through them (eretraite.network), for the audit trail, the login lock-out and the API tokens.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "eretraite.network.client_ip"
ACTIVATION_LINK_VALID_HOURS = env.int("ACTIVATION_LINK_VALID_HOURS", default=72)
DESIGNATION_MAX_ROWS = env.int("DESIGNATION_MAX_ROWS", default=5000)
DESIGNATION_MAX_BYTES = env.int("DESIGNATION_MAX_BYTES", default=10 * 1024 * 1024)

# The help page (support app): the CMR's technical support for the platform, as circular D-6266 gives
# it ("يضع الصندوق المغربي للتقاعد رهن إشارتها رقما هاتفيا خاصا ... وبريدا إلكترونيا ..."), the DGCT's
# address for the designation forms, and the portal where a class-3 signature token is ordered.
SUPPORT_PHONE = env.str("SUPPORT_PHONE", default="05 37 567 568")
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="assistanceplateforme@cmr.gov.ma")
SUPPORT_DGCT_EMAIL = env.str("SUPPORT_DGCT_EMAIL", default="ariad@interieur.gov.ma")
SUPPORT_SIGNATURE_PORTAL = env.str("SUPPORT_SIGNATURE_PORTAL", default="https://www.baridesign.ma")
# Addresses told of each new support request written on the portal (the support desk's mailbox); none by
# default: the CMR's and the DGCT's staff see them on their "Support requests" page.
SUPPORT_NOTIFY_EMAILS = env.list("SUPPORT_NOTIFY_EMAILS", default=[])

# Dossiers: by default the officer who submitted a dossier may not certify it too.
DOSSIER_CERTIFIER_MUST_DIFFER = env.bool("DOSSIER_CERTIFIER_MUST_DIFFER", default=True)
# Certifying: the certifier signs the transmittal slip with his own class-3 token and uploads it; the
# platform then adds its seal (on in production). Off: "Certify" is one click (demos, development).
CERTIFICATION_SIGNED_BY_TOKEN = env.bool("CERTIFICATION_SIGNED_BY_TOKEN", default=PRODUCTION)

# Security: always on; the production mode adds HTTPS-only cookies, HSTS and redirects.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from this site, never inline (templates carry
# none: tests/eretraite/test_csp.py); styles from this site (and the style attributes Bootstrap and
# the admin write); nothing may frame the portal or receive its forms elsewhere.
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The TLS terminating proxy answers its own health checks over plain HTTP on this path.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},  # fontTools: each font subset
}

# --- CMR gateway (cmr/) --------------------------------------------------------------------------
# The back office the outbox delivers certified dossiers to, and the secret its callbacks are signed
# with (HMAC-SHA256 over "<timestamp>.<body>"). The mock back office (run_cmr_mock) reads the same
# CMR_CALLBACK_SECRET.
CMR_BASE_URL = env.str("CMR_BASE_URL", default="http://127.0.0.1:8001")
CMR_CALLBACK_SECRET = (
    env.str("CMR_CALLBACK_SECRET")
    if PRODUCTION
    else env.str("CMR_CALLBACK_SECRET", default="development-only-cmr-callback-secret")
)
CMR_CALLBACK_TOLERANCE_SECONDS = env.int("CMR_CALLBACK_TOLERANCE_SECONDS", default=300)
# How the portal authenticates to the back office: a bearer token (the mock checks it: it runs with the
# same value as CMR_MOCK_API_TOKEN), and/or mutual TLS with a client certificate and the CA to trust.
CMR_API_TOKEN = env.str("CMR_API_TOKEN", default="" if PRODUCTION else "development-only-cmr-api-token")
CMR_CLIENT_CERT = env.str("CMR_CLIENT_CERT", default="")
CMR_CLIENT_KEY = env.str("CMR_CLIENT_KEY", default="")
CMR_CA_BUNDLE = env.str("CMR_CA_BUNDLE", default="")
CMR_CONNECT_TIMEOUT = env.float("CMR_CONNECT_TIMEOUT", default=3.0)
# An outbound proxy to reach the back office, if the network needs one (environment proxies are ignored).
CMR_HTTP_PROXY = env.str("CMR_HTTP_PROXY", default="")
CMR_READ_TIMEOUT = env.float("CMR_READ_TIMEOUT", default=30.0)
# The outbox's retries: exponential back-off with jitter from BASE up to MAX, then failed.
CMR_SEND_MAX_ATTEMPTS = env.int("CMR_SEND_MAX_ATTEMPTS", default=8)
# A worker claims up to this many due transmissions at once, sends them one after the other and records
# their outcomes together (one transaction): the bookkeeping per dossier stays small under a burst.
CMR_SEND_BATCH = env.int("CMR_SEND_BATCH", default=50)
# A batch stops starting sends after this long; the rest go back to the outbox at once. This bounds the
# batch's lease (so a worker that dies mid-batch delays its rows by minutes, not hours).
CMR_SEND_BATCH_SECONDS = env.float("CMR_SEND_BATCH_SECONDS", default=30.0)
CMR_RETRY_BASE_SECONDS = env.float("CMR_RETRY_BASE_SECONDS", default=10.0)
CMR_RETRY_MAX_SECONDS = env.float("CMR_RETRY_MAX_SECONDS", default=900.0)
# Defaults of `manage.py run_cmr_mock` (the mock's own CMR_MOCK_* variables win).
CMR_MOCK_CALLBACK_URL = env.str(
    "CMR_MOCK_CALLBACK_URL", default=f"{SITE_URL.rstrip('/')}/cmr/callbacks/")
CMR_MOCK_DATA_DIR = env.path("CMR_MOCK_DATA_DIR", default=BASE_DIR / "var" / "cmr_mock")
CMR_MOCK_ADMIN_TOKEN = env.str(
    "CMR_MOCK_ADMIN_TOKEN", default="" if PRODUCTION else "development-only-mock-admin-token")
# --- end of CMR gateway ---------------------------------------------------------------------------

# --- Signatures (PAdES verification and signing; signatures app) ---
# Trust: comma-separated files or directories of PEM/DER certificates and CRLs. Nothing is trusted
# unless listed here (never the operating system's TLS roots); nothing is fetched from the network
# unless SIGNATURES_ALLOW_FETCHING is set, and then every OCSP/CRL request has a timeout.
# Outside production the defaults point at the demo's test PKI (`manage.py make_test_pki
# var/test-pki`); in production every path must be given.
SIGNATURES_DEMO_PKI_DIR = BASE_DIR / "var" / "test-pki"


def _demo_pki(sub):
    return [] if PRODUCTION else [str(SIGNATURES_DEMO_PKI_DIR / sub)]


SIGNATURES_TRUST_ROOTS = env.list("SIGNATURES_TRUST_ROOTS", default=_demo_pki("trust/roots"))
SIGNATURES_INTERMEDIATES = env.list(
    "SIGNATURES_INTERMEDIATES", default=_demo_pki("trust/intermediates"))
SIGNATURES_CRLS = env.list("SIGNATURES_CRLS", default=_demo_pki("trust/crls"))
SIGNATURES_ALLOW_FETCHING = env.bool("SIGNATURES_ALLOW_FETCHING", default=False)
SIGNATURES_FETCH_TIMEOUT = env.int("SIGNATURES_FETCH_TIMEOUT", default=10)
# "soft-fail": a certificate listed in a CRL is rejected, one with no revocation data is not;
# "hard-fail": revocation data must be found for every certificate of the chain.
SIGNATURES_REVOCATION_MODE = env.str("SIGNATURES_REVOCATION_MODE", default="soft-fail")
SIGNATURES_MAX_BYTES = env.int("SIGNATURES_MAX_BYTES", default=20 * 1024 * 1024)
# The platform seal (PKCS#12) and, optionally, a timestamping authority for B-T/B-LT signatures.
SIGNATURES_SEAL_P12 = env.str("SIGNATURES_SEAL_P12", default="".join(_demo_pki("p12/seal.p12")))
SIGNATURES_SEAL_P12_PASSWORD = env.str(
    "SIGNATURES_SEAL_P12_PASSWORD", default="" if PRODUCTION else "test-pki")
SIGNATURES_TSA_URL = env.str("SIGNATURES_TSA_URL", default="")
# --- end signatures ---

# --- CMR outbox (cmr/outbox.py, cmr/sender.py, cmr/tasks.py) -------------------------------------
# With no REDIS_URL, tasks run eagerly: a certified dossier is sent synchronously on commit, in the
# certifying request; a failed send waits for `manage.py cmr_outbox` or the retry button.
CMR_SEND_LEASE_MARGIN_SECONDS = env.float("CMR_SEND_LEASE_MARGIN_SECONDS", default=30.0)
CMR_SWEEP_SECONDS = env.float("CMR_SWEEP_SECONDS", default=30.0)
# A certification queues a "kick" task only if none is queued and not yet started (a cache key of this
# lifetime); a kick sends batch after batch for up to CMR_SEND_DRAIN_SECONDS, then kicks again.
CMR_KICK_SECONDS = env.float("CMR_KICK_SECONDS", default=30.0)
CMR_SEND_DRAIN_SECONDS = env.float("CMR_SEND_DRAIN_SECONDS", default=300.0)
CMR_RECONCILE_SECONDS = env.float("CMR_RECONCILE_SECONDS", default=900.0)
CMR_RECONCILE_QUIET_SECONDS = env.float("CMR_RECONCILE_QUIET_SECONDS", default=3600.0)
CELERY_BEAT_SCHEDULE.update({
    "cmr-send-due-transmissions": {"task": "cmr.send_due_transmissions", "schedule": CMR_SWEEP_SECONDS},
    "cmr-reconcile": {"task": "cmr.reconcile", "schedule": CMR_RECONCILE_SECONDS},
})
# --- end of CMR outbox ----------------------------------------------------------------------------
# --- CMR outbox: a dedicated queue for a test or a deployment sharing a Redis -----------------------
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default=CELERY_TASK_DEFAULT_QUEUE)

# --- production refuses to start half-configured --------------------------------------------------
if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    _missing = []
    if len(CMR_CALLBACK_SECRET.encode()) < 32:
        _missing.append("CMR_CALLBACK_SECRET must be at least 32 bytes (the HMAC key of the CMR's callbacks)")
    if not SIGNATURES_SEAL_P12:
        _missing.append("SIGNATURES_SEAL_P12 must name the platform's seal (PKCS#12): slips and receipts are sealed")
    if CMR_API_TOKEN and len(CMR_API_TOKEN.encode()) < 32:
        _missing.append("CMR_API_TOKEN, when set, must be at least 32 bytes")
    if _missing:
        raise ImproperlyConfigured("; ".join(_missing))
