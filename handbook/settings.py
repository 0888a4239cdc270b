"""Håndboka settings: one file, every knob an environment variable with a safe development default.

Production is `ENVIRONMENT=production`; it refuses to start without a real SECRET_KEY or with DEBUG on.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# ENVIRONMENT=production turns on everything a real deployment needs (HTTPS-only cookies, HSTS,
# SMTP, no demo people) and refuses to start without a real SECRET_KEY or with DEBUG on.
# Development (the default) serves plain HTTP on 127.0.0.1, but still shows the Norwegian error
# pages: DEBUG is a separate switch for developers who want tracebacks.
ENVIRONMENT = env_str("ENVIRONMENT", "development")
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured("ENVIRONMENT must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# The address in every e-mail's links. Production has no default: a forgotten SITE_URL would send
# each reminder and digest with links to http://127.0.0.1:8000.
SITE_URL = env_str("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        "Set SITE_URL to the portal's https:// address, e.g. https://handbok.kommune.no "
        "(the links in e-mails)."
    )

# Demo organisations and people (ansatt.bergen / demo, ...) are never created in production.
DEMO_DATA = not PRODUCTION and env_bool("DEMO_DATA", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "pgtrigger",
    "markdownx",
    "axes",
    "csp",
    "procrastinate.contrib.django",
    "people",
    "policies",
    "signin",
    "operations",
    "outbox",
]

MIDDLEWARE = [
    # First, so every log line of the request carries its id (operations.logging).
    "operations.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous policy pages from the shared cache, before sessions, auth, CSP and lock-outs.
    "policies.pagecache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the person's own choice of målform comes first.
    "people.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "handbook.urls"
WSGI_APPLICATION = "handbook.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
            # One date style on every page, without a {% load %} in each template.
            "builtins": ["policies.templatetags.formats", "policies.templatetags.navigation"],
        },
    },
]

# The Makefile points DATABASE_URL at the project-local cluster (scripts/pg.sh) when it is not set.
DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:25320/handbook")
if not DATABASE_URL:
    # Set but empty: most often the worker or migration unit's DATABASE_URL="$DIRECT_DATABASE_URL"
    # with DIRECT_DATABASE_URL missing from handbook.env (dj_database_url would only say "Scheme
    # '://' is unknown").
    raise ImproperlyConfigured(
        "DATABASE_URL is empty. The worker and migration units take it from "
        "DIRECT_DATABASE_URL: set that in /etc/handbook/handbook.env (docs/deployment.md)."
    )
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # Django's PostgreSQL backend, with a health check that costs no round trip (handbook.db).
        engine="handbook.db",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
# Behind PgBouncer in transaction-pooling mode a server connection is only ours for one transaction.
# Django's server-side cursors outside a transaction (WITH HOLD, used by .iterator()) would outlive it,
# so they are turned off; streamed exports open their own transaction instead (policies.dashboards).
# psycopg's prepared statements are already off in Django (prepare_threshold=None), and the time zone
# Django sets is one of the parameters PgBouncer itself replays on every server connection.
DB_TRANSACTION_POOLING = env_bool("DB_TRANSACTION_POOLING", False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DB_TRANSACTION_POOLING
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache is shared by every app server (Redis or Valkey), so a page cached by one is right on
# all. The Makefile starts a project-local Redis (scripts/redis.sh) when REDIS_URL is not set;
# without it (a bare `manage.py runserver`) each process has its own memory cache.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "handbook.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # By default the prefix names the database, so installations (or test runs) that share
            # one Redis never serve each other's pages. By its direct address when there is one:
            # the app servers reach it through PgBouncer, the worker directly (DIRECT_DATABASE_URL),
            # and both must see each other's entries and invalidations.
            "KEY_PREFIX": env_str(
                "CACHE_KEY_PREFIX",
                "handbook:{HOST}:{PORT}/{NAME}".format(
                    **dj_database_url.parse(env_str("DIRECT_DATABASE_URL", "") or DATABASE_URL)
                ),
            ),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Sessions are read from the shared cache and kept in the database (people.sessions).
    SESSION_ENGINE = "people.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "people.Person"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "people.backends.PersonBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# The interface speaks the kommune's målform, or the person's own choice (people.language). Bokmål is
# the source language of every message (the msgids); locale/ holds the catalogues of the others.
# Nothing assumes two: a Sámi catalogue is one more entry here and one more folder in locale/.
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("nn", "Norsk nynorsk")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "sprak"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm (package.json); only the folders the pages use are served.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/designsystemet", BASE_DIR / "node_modules/@digdir/designsystemet-css/dist"),
    ("vendor/designsystemet-web", BASE_DIR / "node_modules/@digdir/designsystemet-web/dist/umd"),
    ("vendor/inter", BASE_DIR / "node_modules/@fontsource/inter"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded images go to Azure Blob Storage (django-storages) when a connection string is set
# (production; the tests use Microsoft's emulator, azurite), else to MEDIA_ROOT on local disk.
# Either way they are served by the portal itself, to those who may see them (/media/bilder/).
AZURE_STORAGE_CONNECTION_STRING = env_str("AZURE_STORAGE_CONNECTION_STRING", "")
AZURE_STORAGE_CONTAINER = env_str("AZURE_STORAGE_CONTAINER", "handboka")
if AZURE_STORAGE_CONNECTION_STRING:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {
            "connection_string": AZURE_STORAGE_CONNECTION_STRING,
            "azure_container": AZURE_STORAGE_CONTAINER,
            "overwrite_files": False,
            "timeout": 10,
        },
    }
# Outside production whitenoise serves straight from the source folders, so tests need no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# Request size limits: a policy body is at most 200 000 characters, so 2.5 MB of form data is ample.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_500_000)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000

# E-mail: the console in development, SMTP from the environment in production.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Håndboka <handboka@localhost>")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# Background work: every e-mail goes through the outbox and procrastinate's queue (PostgreSQL).
# A batch whose SMTP server is unavailable is retried after EMAIL_RETRY_WAIT +
# EMAIL_RETRY_EXPONENTIAL ** attempt seconds (defaults: 32 s, 34 s, 38 s … about 2.5 hours in all);
# what is still unsent after EMAIL_MAX_ATTEMPTS tries becomes "feilet".
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 12)
EMAIL_RETRY_WAIT = env_int("EMAIL_RETRY_WAIT", 30)
EMAIL_RETRY_EXPONENTIAL = env_int("EMAIL_RETRY_EXPONENTIAL", 2)
# A worker that stopped sending heartbeats this long ago is dead: its jobs go to another worker.
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10)
JOBS_STALLED_SECONDS = env_int("JOBS_STALLED_SECONDS", 60)
JOBS_STALLED_CRON = env_str("JOBS_STALLED_CRON", "* * * * *")
# Periodic jobs (cron syntax, in UTC: procrastinate ignores TIME_ZONE; a sixth field would be seconds).
JOBS_ACTIVATE_CRON = env_str("JOBS_ACTIVATE_CRON", "5 0 * * *")
JOBS_DIGEST_CRON = env_str("JOBS_DIGEST_CRON", "0 7 * * 1")
JOBS_CLEANUP_CRON = env_str("JOBS_CLEANUP_CRON", "30 3 * * *")
# Pseudonymising leavers past their kommune's retention (operations/tasks.py, docs/personvern.md).
JOBS_RETENTION_CRON = env_str("JOBS_RETENTION_CRON", "45 3 * * *")
# Sign-in records (django-axes: successes and failures) are kept this many days, for the metrics
# and for investigating attacks, then deleted by the nightly clean-up job (policies.tasks.clean_up).
LOGIN_LOG_DAYS = env_int("LOGIN_LOG_DAYS", 90)
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": env_int("JOBS_CONCURRENCY", 4),
    "update_heartbeat_interval": JOBS_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": JOBS_STALLED_SECONDS,
    # Finished jobs are deleted; the outbox rows are the record of what was sent.
    "delete_jobs": "successful",
}

# Markdown editor: the preview renders with the same function as publishing (policies.rendering).
MARKDOWNX_MARKDOWNIFY_FUNCTION = "policies.rendering.render_html"
MARKDOWNX_UPLOAD_MAX_SIZE = 3 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png"]
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 1600), "quality": 85}
# markdownx's own URLs are not included (they have no authentication): the editorial URLs route its
# views behind login and the editor role, and the widget posts to these addresses.
MARKDOWNX_URLS_PATH = "/redaksjon/markdownx/markdownify/"
MARKDOWNX_UPLOAD_URLS_PATH = "/redaksjon/markdownx/upload/"
MARKDOWNX_MEDIA_PATH = "bilder/"

# Sign-in through each organisation's own OpenID Connect provider (signin/). Client secrets stored
# in the database are encrypted with these Fernet keys (newest first; older ones still decrypt).
# Unset: a key derived from SECRET_KEY.
SIGNIN_ENCRYPTION_KEYS = env_list("SIGNIN_ENCRYPTION_KEYS", "")

# Login throttling (django-axes) for local accounts (signin/throttling.py): five failures lock
# that account, fifty lock that client address, each for 15 minutes. Sign-in through a kommune's
# provider is never throttled by either. The client address is REMOTE_ADDR unless
# TRUSTED_PROXY_COUNT says how many proxies of our own stand in front (X-Forwarded-For).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 50)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "signin.throttling.Handler"
AXES_CLIENT_IP_CALLABLE = "signin.throttling.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Content-Security-Policy (django-csp 4): no inline script; Designsystemet's icons are data: SVGs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# A rejected form gets a Norwegian page, not Django's English one.
CSRF_FAILURE_VIEW = "policies.views.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
# The HR import refuses a file that would deactivate more than this share of a kommune's active
# people (most often a truncated export) unless it is run with --force.
HR_IMPORT_MAX_DEACTIVATION_PERCENT = env_int("HR_IMPORT_MAX_DEACTIVATION_PERCENT", 10)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs: one JSON object a line on stderr in production (LOG_FORMAT=json), readable text in
# development. Every line carries the request id; people appear only as ids (operations.logging).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {"()": "operations.logging.RequestContextFilter"},
        "expected_refusals": {"()": "handbook.logging.ExpectedRefusalsOnOneLine"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request", "expected_refusals"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The access line is written by operations.logging; Django's own 4xx warnings repeat it.
        "django.request": {"level": "ERROR"},
        # django-axes logs every successful login at INFO; failures and lock-outs are WARNING.
        "axes": {"level": "WARNING"},
        # The Azure SDK logs every HTTP request at INFO.
        "azure": {"level": "WARNING"},
        # procrastinate announces every task it registers at INFO, in every process.
        "procrastinate": {"level": env_str("JOBS_LOG_LEVEL", "WARNING")},
    },
}
AXES_VERBOSE = False
# Axes would log the username and IP address of a failed sign-in: log the request id instead.
AXES_CLIENT_STR_CALLABLE = "operations.logging.axes_client_str"
# Each failed sign-in is kept for LOGIN_LOG_DAYS (see above).
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Prometheus metrics at /helse/metrikker/: closed (404) unless METRICS_TOKEN is set, and then only
# for a scraper sending "Authorization: Bearer <token>", from METRICS_ALLOWED_NETWORKS if given.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(n) for n in env_list("METRICS_ALLOWED_NETWORKS", "")
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc

# Optional error reporting to Sentry (or a compatible service such as GlitchTip): set SENTRY_DSN.
# No personal data is sent: no cookies, headers, bodies or user details beyond the id.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    from operations.logging import scrub_sentry_event

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        send_default_pii=False,
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
        before_send=scrub_sentry_event,
    )
