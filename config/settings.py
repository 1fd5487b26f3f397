"""Settings, all from the environment (see .env.example).

One module for every environment: production is the default (DEBUG off,
secure cookies, a required SECRET_KEY); `make run` and the tests opt into
their conveniences through variables, never through another module.
"""

import base64
import os
import secrets
import time
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.csp import csp_policy
from core.observability import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("APPROVALS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def local_secret(name: str, make) -> str:
    """A secret of this machine's `make run`, generated on first start into VAR_DIR/<name>
    (mode 0600) and read back on every later start. Never a value written in the code:
    a key anyone can read in the repository lets anyone forge what it protects."""
    path = VAR_DIR / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the same start won the race
        for _attempt in range(50):
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.05)
        raise ImproperlyConfigured(f"{path} is empty; delete it to have a new one made.") from None
    value = make()
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment "
            "(or DJANGO_DEBUG=1 for local development)."
        )
    SECRET_KEY = local_secret("secret_key", lambda: secrets.token_urlsafe(50))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "template_partials",
    "channels",
    "axes",
    "ninja",
    "accounts",
    "approvals",
    "approvals.ocr",
    "payouts",
]

MIDDLEWARE = [
    "core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.static_files.StaticFilesMiddleware",  # WhiteNoise, streamed under ASGI
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.language.PersonLanguageMiddleware",
    "approvals.people.PeopleCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "approvals.api.calls.ApiCallLog",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "approvals.context_processors.navigation",
                "accounts.context_processors.sign_in",
            ],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: the worker and the web server share one file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and os.environ.get("DATABASE_POOL", "0" if DEBUG else "1") not in ("0", "")
    and not DATABASES["default"]["CONN_MAX_AGE"]
):
    # Production default for PostgreSQL: psycopg's connection pool (Django 5.1+). Under
    # ASGI every request and every activity thread would otherwise connect anew
    # (CONN_MAX_AGE=0), or keep one connection per short-lived thread (CONN_MAX_AGE>0);
    # the pool hands a connection back at the end of each request/activity. DEBUG (tests),
    # DATABASE_POOL=0 and an explicit DATABASE_CONN_MAX_AGE keep plain connections.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 24),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
if os.environ.get("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}

AUTH_USER_MODEL = "accounts.User"
# Sign-in (README "Single sign-on"): local passwords (with django-axes' lockout) unless
# LOCAL_LOGIN=0, and OpenID Connect when OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET
# are set (accounts/oidc.py; the endpoints come from the issuer's discovery document).
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "").strip()
OIDC_RP_CLIENT_ID = OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = OIDC_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # for the provider's logout (id_token_hint)
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_CREATE_USER = env_bool("OIDC_CREATE_USER", True)
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_MANAGER_CLAIM = os.environ.get("OIDC_MANAGER_CLAIM", "manager")
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
# The provider's group names (or Entra ID object ids) for the teams that mean something here.
IDENTITY_GROUP_FINANCE = env_list("IDENTITY_GROUP_FINANCE", "finance")
IDENTITY_GROUP_IT = env_list("IDENTITY_GROUP_IT", "IT")
IDENTITY_GROUP_ADMINS = env_list("IDENTITY_GROUP_ADMINS", "administrators")
# SCIM 2.0 provisioning at /scim/v2/ (accounts/scim/): off while SCIM_TOKEN is empty.
SCIM_TOKEN = os.environ.get("SCIM_TOKEN", "").strip()
# Step-up (accounts/stepup.py): approving more than STEP_UP_EUR asks for a passkey or the
# password; a confirmation counts for the API's session callers for STEP_UP_FRESH_SECONDS.
STEP_UP_EUR = os.environ.get("STEP_UP_EUR", "10000")
STEP_UP_FRESH_SECONDS = env_int("STEP_UP_FRESH_SECONDS", 300)
# WebAuthn relying party (passkeys): unset, the id is the host the page was served from.
WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "").strip()
WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME", "Approvals")
# How long the browser's passkey prompt waits for the person (the WebAuthn `timeout`).
WEBAUTHN_TIMEOUT_MS = env_int("WEBAUTHN_TIMEOUT_MS", 60_000)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    *(["django.contrib.auth.backends.ModelBackend"] if LOCAL_LOGIN else []),
    *(["accounts.oidc.Backend"] if OIDC_ISSUER and OIDC_CLIENT_ID and OIDC_CLIENT_SECRET else []),
]
# Tests (and only tests) put a fast hasher first: seed_demo hashes every demo
# password per test. Never set this in production.
if DEBUG and os.environ.get("PASSWORD_HASHERS"):  # ignored in production
    PASSWORD_HASHERS = env_list("PASSWORD_HASHERS")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: ignore the
# header, the peer address is the client). One place decides the client IP
# (accounts/client_ip.py); the ipware settings say the same for when ipware is installed.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # one date-time style per language
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
# Serve static files straight from the app folders when not collected (DEBUG, tests).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Request size: config/asgi.py answers 413 before reading a body over REQUEST_MAX_BYTES
# (core/body_limit.py); Django's own caps stay as a second line.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 12 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
WEB_MAX_INFLIGHT = env_int("WEB_MAX_INFLIGHT", 8)  # overload: core/admission.py, README
WEB_QUEUE_WAIT = float(os.environ.get("WEB_QUEUE_WAIT", "25"))
WEB_BADGE_WAIT = float(os.environ.get("WEB_BADGE_WAIT", "0.25"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security: production values unless DEBUG is asked for.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Security headers, all in one place (tested together in tests/security/test_headers.py):
# nosniff, referrer, frame denial, COOP here; Permissions-Policy and CORP in
# core/middleware.py; the CSP below (django-csp).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
# The Content-Security-Policy (django-csp): config/csp.py.
CONTENT_SECURITY_POLICY = csp_policy(OIDC_ISSUER)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "approvals@localhost")
APP_BASE_URL = os.environ.get("APP_BASE_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}")

REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "approvals")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_PREFIX},
        }
    }
    # Sessions read from Redis, written through to the database (sign-out deletes both).
    _SESSIONS = {"LOCATION": REDIS_URL, "KEY_PREFIX": f"{REDIS_PREFIX}:s"}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CACHES["sessions"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", **_SESSIONS}
    SESSION_ENGINE, SESSION_CACHE_ALIAS = "django.contrib.sessions.backends.cached_db", "sessions"
else:
    # Embedded mode: the worker runs inside the web process (see README), so an
    # in-process layer reaches every websocket.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# How often an idle websocket re-checks its session (expiry sends no signal).
WS_SESSION_CHECK_SECONDS = float(os.environ.get("WS_SESSION_CHECK_SECONDS", "60"))

# Temporal
TEMPORAL_PORT = env_int("TEMPORAL_PORT", 7233)
TEMPORAL_UI_PORT = env_int("TEMPORAL_UI_PORT", 8233)
TEMPORAL_ADDRESS = os.environ.get("TEMPORAL_ADDRESS") or f"127.0.0.1:{TEMPORAL_PORT}"
TEMPORAL_NAMESPACE = os.environ.get("TEMPORAL_NAMESPACE", "default")
TEMPORAL_TASK_QUEUE = os.environ.get("TEMPORAL_TASK_QUEUE", "approvals")
TEMPORAL_OCR_TASK_QUEUE = os.environ.get("TEMPORAL_OCR_TASK_QUEUE", "ocr")  # README "Receipts"
OCR_WORKER, OCR_CONCURRENCY = env_bool("OCR_WORKER", True), env_int("OCR_CONCURRENCY", 2)
TEMPORAL_UI_URL = os.environ.get("TEMPORAL_UI_URL", f"http://127.0.0.1:{TEMPORAL_UI_PORT}")
# Every client call made from a view waits at most this long (an Update with
# no worker running would otherwise wait forever).
TEMPORAL_CALL_TIMEOUT = float(os.environ.get("TEMPORAL_CALL_TIMEOUT", "5"))
TEMPORAL_HEALTH_TIMEOUT = float(os.environ.get("TEMPORAL_HEALTH_TIMEOUT", "1.5"))
# The worker: workflows kept in memory (evicted ones replay when next touched; sized
# from `make bench`, BENCHMARKS.md) and the threads running ORM activities.
TEMPORAL_MAX_CACHED_WORKFLOWS = env_int("TEMPORAL_MAX_CACHED_WORKFLOWS", 500)
TEMPORAL_ACTIVITY_THREADS = env_int("TEMPORAL_ACTIVITY_THREADS", 16)
# The workflow sandbox (on by default). Off only to measure what it costs (BENCHMARKS.md).
TEMPORAL_WORKFLOW_SANDBOX = env_bool("TEMPORAL_WORKFLOW_SANDBOX", True)
# Visibility, the scarcest resource (DESIGN.md §1, approvals/temporal/visibility.py):
# calls a second across all web processes (Redis-shared with REDIS_URL), the bucket's
# burst (default: one second's worth), how long an inbox page waits for a token.
TEMPORAL_VISIBILITY_RPS = float(os.environ.get("TEMPORAL_VISIBILITY_RPS", "10"))
TEMPORAL_VISIBILITY_BURST = float(os.environ.get("TEMPORAL_VISIBILITY_BURST", "0"))
TEMPORAL_VISIBILITY_PAGE_WAIT = float(os.environ.get("TEMPORAL_VISIBILITY_PAGE_WAIT", "0.05"))
# An inbox result is reused until a pushed event says it changed, at most this long
# (the safety net for a missed event); a page served from an older one refreshes itself
# after INBOX_REFRESH_SECONDS (approvals/inbox_feed.py, selectors/inbox_results.py).
INBOX_CACHE_MAX_AGE = float(os.environ.get("INBOX_CACHE_MAX_AGE", "30"))
INBOX_REFRESH_SECONDS = float(os.environ.get("INBOX_REFRESH_SECONDS", "5"))
INBOX_PAGE_MAX_AGE = float(os.environ.get("INBOX_PAGE_MAX_AGE", "120"))  # views/inbox_pages.py
RECONCILE_INTERVAL_SECONDS = float(os.environ.get("RECONCILE_INTERVAL_SECONDS", "5"))
# Payload encryption keys, `id:base64key` pairs, newest first (approvals/temporal/codec.py).
# With DEBUG and none set, a random key is made into VAR_DIR on first start and kept.
TEMPORAL_PAYLOAD_KEYS = os.environ.get("TEMPORAL_PAYLOAD_KEYS", "").strip()
if not TEMPORAL_PAYLOAD_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "TEMPORAL_PAYLOAD_KEYS is not set. Set it on the web and worker processes to "
            "'id:base64key' (32 random bytes, base64), e.g. "
            "k1:$(python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
            "; see SECURITY.md, 'Payload keys' (or DJANGO_DEBUG=1 for local development)."
        )
    # Random and kept under var/, so `make run`'s histories survive restarts and nobody
    # who reads this repository can seal a payload the worker would trust.
    TEMPORAL_PAYLOAD_KEYS = local_secret(
        "payload_keys",
        lambda: (
            f"local-{secrets.token_hex(4)}:" + base64.b64encode(secrets.token_bytes(32)).decode()
        ),
    )

# /codec/ (Temporal's remote codec protocol): a bearer token for the CLI or a proxy, and
# the Temporal UI's origin allowed by CORS (e.g. http://127.0.0.1:8233).
CODEC_TOKEN = os.environ.get("CODEC_TOKEN", "")
TEMPORAL_UI_ORIGIN = os.environ.get("TEMPORAL_UI_ORIGIN", "").rstrip("/")

# Observability: /metrics from outside loopback needs this bearer token (empty: loopback only).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
if not METRICS_TOKEN and os.environ.get("METRICS_TOKEN_FILE"):  # a container secret
    METRICS_TOKEN = Path(os.environ["METRICS_TOKEN_FILE"]).read_text().strip()
# The worker serves the Temporal SDK's own metrics here (unset: not served).
WORKER_METRICS_PORT = os.environ.get("WORKER_METRICS_PORT", "")
WORKER_METRICS_BIND = os.environ.get("WORKER_METRICS_BIND", "0.0.0.0")
# JSON API: calls a minute per personal access token (429 with Retry-After beyond).
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 120)

APPROVAL_SLA_SECONDS = env_int("APPROVAL_SLA_SECONDS", 172800)
# Business calendars (approvals/calendars.py): unless APPROVAL_SLA_SECONDS is set (tests,
# demos: plain time), a level's SLA is this many working hours in the approver's calendar:
# 09:00-17:00 local on working days, the public holidays of HOLIDAY_COUNTRY/SUBDIVISION
# (the `holidays` library's codes; a person's profile may set their own) skipped.
APPROVAL_SLA_PLAIN_TIME = bool(os.environ.get("APPROVAL_SLA_SECONDS", "").strip())
APPROVAL_SLA_WORKING_HOURS = env_int("APPROVAL_SLA_WORKING_HOURS", 16)
HOLIDAY_COUNTRY = os.environ.get("HOLIDAY_COUNTRY", "DE").strip().upper() or "DE"
HOLIDAY_SUBDIVISION = os.environ.get("HOLIDAY_SUBDIVISION", "BE").strip().upper()
APPROVAL_REMINDER_SECONDS = env_int("APPROVAL_REMINDER_SECONDS", APPROVAL_SLA_SECONDS // 2)
APPROVAL_MAX_ESCALATIONS = env_int("APPROVAL_MAX_ESCALATIONS", 2)
# Temporal Schedules (approvals/temporal/schedules.py, `manage.py register_schedules`), in
# TIME_ZONE: the daily digest to approvers and the weekly overdue report to admins. A run
# missed while Temporal was down is still made within the catch-up window.
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # Temporal's day_of_week: 0 = Sunday


def env_clock(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    hours, _sep, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ImproperlyConfigured(f"{name} must be a local time HH:MM, got {value!r}")
    return f"{int(hours):02d}:{int(minutes):02d}"


APPROVALS_DIGEST_TIME = env_clock("APPROVALS_DIGEST_TIME", "07:30")
APPROVALS_OVERDUE_REPORT_TIME = env_clock("APPROVALS_OVERDUE_REPORT_TIME", "08:00")
APPROVALS_OVERDUE_REPORT_DAY = (os.environ.get("APPROVALS_OVERDUE_REPORT_DAY") or "mon").lower()[:3]
if APPROVALS_OVERDUE_REPORT_DAY not in WEEKDAYS:
    raise ImproperlyConfigured(
        f"APPROVALS_OVERDUE_REPORT_DAY must be one of {', '.join(WEEKDAYS)}, "
        f"got {os.environ.get('APPROVALS_OVERDUE_REPORT_DAY')!r}"
    )
APPROVALS_SCHEDULE_CATCHUP_SECONDS = env_int("APPROVALS_SCHEDULE_CATCHUP_SECONDS", 6 * 3600)

# Decision links in mails (approvals/links.py): how long one lives (0 = the SLA
# times escalations + 1, as long as a level can wait) and how long the page
# waits for the workflow to take the decision before saying "recorded".
DECISION_LINK_MAX_AGE = env_int("DECISION_LINK_MAX_AGE", 0)
DECISION_LINK_WAIT = float(os.environ.get("DECISION_LINK_WAIT", "2"))
# Payout (payouts/): the company account the SEPA credit transfers are paid from.
PAYOUT_COMPANY_NAME = os.environ.get("PAYOUT_COMPANY_NAME", "Approvals Demo GmbH")
PAYOUT_COMPANY_IBAN = os.environ.get("PAYOUT_COMPANY_IBAN", "DE89370400440532013000")
PAYOUT_COMPANY_BIC = os.environ.get("PAYOUT_COMPANY_BIC", "COBADEFFXXX")

# LOG_FORMAT=json: one JSON object per line with request_id, workflow_id, trace_id.
LOGGING = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "text").strip().lower(),
    level=os.environ.get("LOG_LEVEL", "INFO"),
)
