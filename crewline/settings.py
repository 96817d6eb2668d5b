"""Django settings for Crewline, read from the environment (see ``crewline.env``).

Defaults give a working single-machine install: SQLite in ``var/`` and local media files.
``DEBUG`` is off unless asked for; production hardening (HTTPS redirect, HSTS, secure cookies)
follows ``HTTPS``, which is on whenever ``DEBUG`` is off.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crewline.env import env_bool, env_int, env_list, env_str
from crewline.storage import media_storage

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("CREWLINE_VAR_DIR", str(BASE_DIR.parent / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("CREWLINE_TESTING", False)

_secret = os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE")
if _secret is None and (DEBUG or TESTING):
    SECRET_KEY = "insecure-development-key-never-use-in-production-" + "x" * 20
else:
    if _secret is None:
        raise ImproperlyConfigured(
            "SECRET_KEY is required: set SECRET_KEY (or SECRET_KEY_FILE, a file holding it) to "
            "50 or more random characters, made with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'")
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 characters with at least 5 different ones; "
            "make one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Web Push to members' browsers (make a pair with `crewline vapid-keys`); off when unset.
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY", "")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY", "")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:admin@localhost")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_bootstrap5",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "csp",
    # Django Ninja: the API (crewline.api) and its docs' own static files (no CDN).
    "ninja",
    "crewline.core",
    "crewline.customers",
    "crewline.workorders",
    "crewline.scheduling",
    "crewline.plans",
    "crewline.notifications",
    "crewline.calendars",
    "crewline.timesheets",
    "crewline.field",
    "crewline.documents",
    "crewline.billing",
    "crewline.live",
    "crewline.dashboard",
    "crewline.api",
    "crewline.webhooks",
    "crewline.portal",
    "crewline.messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, precompressed, before anything below runs.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above everything that writes the body, so that it compresses the finished response.
    "crewline.core.middleware.CompressionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crewline.core.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crewline.core.middleware.MemberMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: it calls the view, again when the database aborted its transaction.
    "crewline.core.db.RetryAbortedMiddleware",
]

ROOT_URLCONF = "crewline.urls"
ASGI_APPLICATION = "crewline.asgi.application"
WSGI_APPLICATION = "crewline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crewline.core.context_processors.crewline",
                "crewline.notifications.context_processors.notifications",
                "csp.context_processors.nonce",
            ],
            # The duration filters (crewline/formats/durations.py), one way everywhere.
            "builtins": ["crewline.formats.templatetags"],
        },
    },
]

# Database: SQLite in var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'crewline.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on the
        # busy timeout instead of one failing with "database is locked" half-way through.
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-64000;"
            "PRAGMA mmap_size=268435456;"
        ),
    }
    if TESTING:
        # A file, not Django's shared-cache in-memory database: shared cache locks whole tables
        # and answers "database table is locked" at once, ignoring the busy timeout, whenever the
        # live server's thread and the test's thread touch one table together. One file per
        # process (pytest-xdist workers add their own suffix), so concurrent runs never meet.
        import tempfile

        _db["TEST"] = {"NAME": str(Path(tempfile.gettempdir())
                                   / f"crewline-test-{os.getpid()}.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI each request runs its ORM calls in a thread of its own, so persistent
    # connections (CONN_MAX_AGE) pile up, one per thread that ever ran. A pool per process
    # bounds them: a request takes a connection when it first needs one and gives it back when
    # it ends. DATABASE_POOL=false returns to persistent connections, for a pooler in front
    # (pgbouncer) that pools already. Tests run with the pool too: Django builds it on the first
    # query, after pytest-django has pointed the connection at test_<name>, and closes it before
    # dropping that database.
    _db["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: on an organization of a million work orders the planner's estimates
    # pass jit_above_cost for the dashboard's and the board's reads, and compiling took longer
    # (65-650 ms) than running them. DATABASE_JIT=true leaves the server's setting.
    if not env_bool("DATABASE_JIT", False):
        _options = _db.setdefault("OPTIONS", {})
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
    if env_bool("DATABASE_POOL", True):
        if env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0):
            raise ImproperlyConfigured(
                "DATABASE_CONN_MAX_AGE applies only with DATABASE_POOL=false: pooled "
                "connections are not persistent ones.")
        _pool_min = env_int("DATABASE_POOL_MIN_SIZE", 2, minimum=0)
        _pool_max = env_int("DATABASE_POOL_MAX_SIZE", 20, minimum=1)
        if _pool_max < _pool_min:
            raise ImproperlyConfigured(
                f"DATABASE_POOL_MAX_SIZE={_pool_max} must be at least "
                f"DATABASE_POOL_MIN_SIZE={_pool_min}.")
        _db["CONN_MAX_AGE"] = 0  # Django refuses a pool with persistent connections
        _db["OPTIONS"] = {**_db.get("OPTIONS", {}), "pool": {
            "min_size": _pool_min,
            "max_size": _pool_max,
            # A request waiting longer than this for a free connection fails (PoolTimeout)
            # instead of hanging while the pool is exhausted.
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
        }}
    else:
        _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
else:
    raise ImproperlyConfigured(
        f"DATABASE_URL uses {_db['ENGINE']}; Crewline supports sqlite:// and postgres:// only."
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failed logins (django-axes): per user name and address together, so
# an attacker cannot lock a whole office out from one address.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

LANGUAGE_CODE = "en"
# A language is listed once every string a member or customer sees is translated into it
# (crewline/core/tests/test_translations.py); members and customers choose among these.
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["crewline.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: files go through views that check access
# Uploaded and generated files (photos, signatures, job reports, attachments, logos): on this
# machine's disk under MEDIA_ROOT, or with MEDIA_STORAGE=s3 in an S3-compatible bucket, which
# every web and worker process shares. The bucket stays private: a download is answered by a
# view that checks access first, then either streams the file or redirects to a signed URL
# that expires after MEDIA_SIGNED_URL_SECONDS (crewline.core.files).
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "local").strip()
MEDIA_SIGNED_URL_SECONDS = env_int("MEDIA_SIGNED_URL_SECONDS", 120, minimum=1)
# false: downloads from the bucket are streamed too, for a bucket browsers cannot reach (an
# S3 server on a private network); signed URLs carry the endpoint's address as it is set.
MEDIA_SIGNED_URLS = env_bool("MEDIA_SIGNED_URLS", True)
STORAGES = {
    "default": media_storage(MEDIA_STORAGE, signed_url_seconds=MEDIA_SIGNED_URL_SECONDS),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
MAX_ATTACHMENT_BYTES = env_int("MAX_ATTACHMENT_MB", 25, minimum=1) * 1024 * 1024

# Email
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Crewline <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. HTTPS is assumed in production (behind a TLS-terminating proxy or not).
HTTPS = env_bool("HTTPS", not DEBUG and not TESTING)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", HTTPS)
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

# Content-Security-Policy (django-csp): scripts and styles from this site only, no inline
# script at all. A page that needs a <style> element of its own marks it with the response's
# nonce ({{ CSP_NONCE }}), which puts the nonce in the header; style attributes are refused
# everywhere (classes instead). Photos on the phone are shown from blob: and data: URLs before
# they are uploaded, and Bootstrap draws its form icons as data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        # data: is read back into a file before a photo from the phone's outbox is uploaded
        # (sync.js); reading a data: URL sends nothing anywhere.
        "connect-src": [SELF, "data:"],
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (django-permissions-policy): no page may use these; the technician app's
# page allows the camera and geolocation for itself (crewline.field.app_views.app). Only
# features browsers recognise: Chromium names any other in the console on every page
# ("bluetooth" is not a policy-controlled feature; core/tests/test_permissions_policy_browser).
PERMISSIONS_POLICY: dict[str, list[str]] = {feature: [] for feature in (
    "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
    "geolocation", "gyroscope", "hid", "magnetometer", "microphone", "midi", "payment",
    "serial", "usb", "xr-spatial-tracking",
)}

# Live updates (crewline.live): how a change reaches pages open on other server processes.
# memory: one process only; redis: pub/sub on REDIS_URL; postgres: LISTEN/NOTIFY.
REDIS_URL = env_str("REDIS_URL", "")
# The API's rate limits (crewline/api/limits.py): requests a minute per key unless the owner
# sets the key's own; counted in the "api" cache, which Redis shares between processes.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600, minimum=1)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
            if REDIS_URL else
            {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}),
}
LIVE_BROKER = env_str("LIVE_BROKER", "redis" if REDIS_URL else (
    "postgres" if _db["ENGINE"] == "django.db.backends.postgresql" else "memory"))
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 15, minimum=1)
# Streams end after this and the browser reconnects (Last-Event-ID); short under tests, whose
# threaded test server cannot stream and would otherwise wait on a stream forever.
LIVE_STREAM_SECONDS = env_int("LIVE_STREAM_SECONDS", 3 if TESTING else 300, minimum=1)

# The customer's portal (crewline.portal): how long a link works, and how often a new one may
# be asked for in an hour, per address typed and per client IP.
PORTAL_LINK_DAYS = env_int("PORTAL_LINK_DAYS", 30, minimum=1)
PORTAL_REQUESTS_PER_ADDRESS = env_int("PORTAL_REQUESTS_PER_ADDRESS", 3, minimum=1)
PORTAL_REQUESTS_PER_IP = env_int("PORTAL_REQUESTS_PER_IP", 20, minimum=1)
# The public request form: requests for work an hour, per email or phone and per client IP.
WORK_REQUESTS_PER_ADDRESS = env_int("WORK_REQUESTS_PER_ADDRESS", 3, minimum=1)
WORK_REQUESTS_PER_IP = env_int("WORK_REQUESTS_PER_IP", 10, minimum=1)

# Route planning (crewline.scheduling.routes): how long "Plan the day" searches, in tenths of a
# second (short under tests); ROUTING_URL: an OSRM server's address for drive times (optional).
ROUTE_PLAN_TENTHS = env_int("ROUTE_PLAN_TENTHS", 2 if TESTING else 50, minimum=1)
ROUTING_URL = env_str("ROUTING_URL", "")
# A Nominatim search endpoint: sites without a map position are geocoded when a day is planned.
GEOCODER_URL = env_str("GEOCODER_URL", "")

# Background work (emails, recurring plans, ...): django-tasks with its database backend; a worker
# process (`crewline worker`, started by `crewline run`) runs them. Tests run tasks immediately.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING and not env_bool("CREWLINE_TEST_DB_TASKS", False)
            else "django_tasks_db.DatabaseBackend"
        ),
    }
}

# Webhooks (crewline.webhooks): outbound requests go only to public addresses unless this allows
# loopback, private and link-local ones (a receiver on the same machine or network; the tests).
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)
# How long an endpoint has to answer before the attempt counts as failed.
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 15, minimum=1)
# How many requests a worker has out at once (to other resources or endpoints). Tests send one
# at a time, in the test's own transaction.
WEBHOOKS_CONCURRENCY = env_int("WEBHOOKS_CONCURRENCY", 1 if TESTING else 8, minimum=1)

# Text messages to customers (crewline.messaging) through Twilio: all three set, or SMS is off
# and messages go by email. The API's address is a setting for tests (a local fake server).
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = env_str("TWILIO_FROM", "")
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 15, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden": {"()": "crewline.core.logging.ForbiddenIsNotAnError"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"},
                # Each webhook request (crewline.webhooks) is in its delivery log already.
                "httpx": {"level": "WARNING"},
                # twilio logs every request and response it makes at INFO.
                "twilio": {"level": "WARNING"},
                "django.request": {"filters": ["forbidden"]}},
}

if TESTING:
    # The test server serves static files from the apps; there is no collected STATIC_ROOT.
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

# Forms: errors next to fields; no green "valid" outline on fields that merely passed.
BOOTSTRAP5 = {"success_css_class": "", "set_placeholder": False}
