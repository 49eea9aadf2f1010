"""Settings, all from environment variables with embedded defaults (SQLite, no broker)."""

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


DEVELOPMENT_SECRET_KEY = "levity-insecure-development-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
# Production mode is DEBUG off: its defaults are the secure ones (docs/security.md, "Defaults").
DEBUG = _env_bool("DEBUG", True)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "*").split(",") if h.strip()]
# Secrets come only from the environment: in production a known default one stops the start
# (sessions and password reset links would be forgeable by anyone who read this file).
if not DEBUG and SECRET_KEY.strip() in {"", DEVELOPMENT_SECRET_KEY, "change-me"}:
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is unset or a published default: set SECRET_KEY to a "
        "long random value, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# --- HTTPS (`python manage.py check --deploy` is clean with DEBUG=false; docs/security.md) ---
# Secure by default once DEBUG is off; each one can be set from the environment.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD and "SECURE_HSTS_PRELOAD" not in os.environ:
    # Submitting a domain to the browsers' preload list is its owner's irreversible decision,
    # not a default: the check that recommends it is silenced until the variable is set.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and drops the client's): without
# this, SECURE_SSL_REDIRECT would redirect forever.
if _env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "levity_backend.apps.LevityAdminConfig",  # django.contrib.admin with Levity's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us, not from a CDN
    "django_celery_results",
    "charging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "levity_backend.urls"
WSGI_APPLICATION = "levity_backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "levity_backend" / "templates"],  # the admin's base_site (favicon)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{os.environ.get('LEVITY_DATA_DIR', BASE_DIR)}/levity.sqlite3",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs the web server and the worker side by side. WAL lets readers
    # go on while one writes; IMMEDIATE takes the write lock when a transaction begins, since a
    # read transaction that later writes gets "database is locked" at once, whatever the
    # timeout; the timeout (busy timeout, seconds) waits for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Moments to the second with their zone ("2026-12-06 01:13:28 UTC"), not "Dec. 6, 2026, 1:13 a.m.".
FORMAT_MODULE_PATH = ["levity_backend.formats"]
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Plain storage, not the manifest one: `levity up` and tests run without collectstatic.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- HTTP API (charging.api, mounted at /api/v1/) ---
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Levity OCPP 1.6J central system API",
    "DESCRIPTION": "Charge points, transactions, id tags, and OCPP 1.6 calls to charge points.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies as components of their own, with what they must hold (minLength 1 for a
    # field that may not be blank): what the API refuses is what the schema says.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise fetch a badge from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "IdTagStatusEnum": "charging.models.IdTagStatus",
        "OutboundCallStatusEnum": "charging.models.OutboundCallStatus",
        "RegistrationStatusEnum": "charging.models.RegistrationStatus",
    },
}

# Empty AMQP_URL means the embedded default: `levity up` runs the worker in-process.
AMQP_URL = os.environ.get(
    "AMQP_URL", "amqp://guest:guest@localhost:5672/%2F?connection_attempts=20&retry_delay=1"
)
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
# Seconds every Redis command may take before the caller falls back (database polling, no
# presence decisions): a frozen Redis costs this much, once per RETRY_AFTER_FAILURE.
OCPP_REDIS_TIMEOUT = _env_float("OCPP_REDIS_TIMEOUT", 0.5)


def _kombu_url(url: str) -> str:
    """AMQP_URL without the pika-style `connection_attempts`/`retry_delay` query (the seed's
    default), which kombu refuses; Celery retries the broker connection by itself."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query) if k not in {"connection_attempts", "retry_delay"}
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- Celery (celery_app.py reads every CELERY_* name) ---
# With a host: kombu warns "No hostname was supplied" for a bare memory://.
CELERY_BROKER_URL = _kombu_url(AMQP_URL) if AMQP_URL else "memory://localhost/"
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = True  # inbound tasks are high-rate; commands opt in
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_HEARTBEAT = 10
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = False  # events cost ~28 % throughput; enable while debugging
CELERY_TIMEZONE = "UTC"
# Celery's Django fix-up closes the DB connection around every task unless told to reuse it
# (measured 50 → 155 tasks/s). No hard time limits on these tasks, see celery-notes.
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
# Celery's two INFO lines per task ("received", "succeeded"): one per frame, so off unless asked
# for (celery_app.py); problems are logged as warnings and errors either way.
LOG_EVERY_TASK = _env_bool("LOG_EVERY_TASK", False)
if not AMQP_URL:
    # Embedded default: no broker, so tasks (commands) run in the caller's process, and their
    # outcome is kept like a worker's.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_STORE_EAGER_RESULT = True

# --- OCPP (read by charging.conf; documented in README) ---
OCPP_HEARTBEAT_INTERVAL = int(os.environ.get("OCPP_HEARTBEAT_INTERVAL", "3600"))
OCPP_ACCEPT_UNKNOWN_ID_TAGS = _env_bool("OCPP_ACCEPT_UNKNOWN_ID_TAGS", True)
OCPP_AUTO_REMOTE_START_ID_TAG = os.environ.get("OCPP_AUTO_REMOTE_START_ID_TAG", "anonymous")
OCPP_AUTO_REMOTE_START_DELAY = _env_float("OCPP_AUTO_REMOTE_START_DELAY", 1.0)
# The automatic RemoteStartTransaction on Preparing (charging.services.auto_remote_start): on or
# off, and how long after an accepted Authorize / a pending or accepted RemoteStart it holds off.
OCPP_AUTO_REMOTE_START = _env_bool("OCPP_AUTO_REMOTE_START", True)
OCPP_AUTO_REMOTE_START_AFTER_AUTHORIZE_GRACE = _env_float(
    "OCPP_AUTO_REMOTE_START_AFTER_AUTHORIZE_GRACE", 60.0
)
OCPP_AUTO_REMOTE_START_COOLDOWN = _env_float("OCPP_AUTO_REMOTE_START_COOLDOWN", 120.0)
# More transactions than this started on one connector within a minute: a charge-start loop.
OCPP_TRANSACTION_LOOP_THRESHOLD = int(os.environ.get("OCPP_TRANSACTION_LOOP_THRESHOLD", "3"))
OCPP_CALL_TIMEOUT = _env_float("OCPP_CALL_TIMEOUT", 30.0)
OCPP_CALL_GRACE = _env_float("OCPP_CALL_GRACE", 30.0)
# Seconds between runs of `levity.expire_stale_calls` (Celery beat below; a thread in embedded
# mode); 0 turns it off.
OCPP_EXPIRE_STALE_CALLS_EVERY = _env_float("OCPP_EXPIRE_STALE_CALLS_EVERY", 60.0)
# OCPP frames (Message rows) older than this many days are deleted (0 keeps them all), a time-boxed
# batch every OCPP_PRUNE_MESSAGES_EVERY seconds (beat below; a thread in embedded mode; 0: never).
OCPP_MESSAGE_RETENTION_DAYS = int(os.environ.get("OCPP_MESSAGE_RETENTION_DAYS", "90"))
OCPP_PRUNE_MESSAGES_EVERY = _env_float("OCPP_PRUNE_MESSAGES_EVERY", 10.0)
OCPP_DB_RETRY_SECONDS = _env_float("OCPP_DB_RETRY_SECONDS", 25.0)
OCPP_GATEWAY_URL = os.environ.get("OCPP_GATEWAY_URL", "ws://localhost:9000/ocpp/")
# The browser charge point simulator at demo/ocpp/ (prefilled with OCPP_GATEWAY_URL).
OCPP_SIMULATOR_ENABLED = _env_bool("OCPP_SIMULATOR_ENABLED", DEBUG)
# Admission of charge points (charging.admission, docs/security.md): what happens to unknown
# ones ("accept", "pending" until approved in the admin, "reject" with HTTP 404), and whether a
# charge point needs an authorization key (HTTP Basic) to connect. Both are checked at the
# handshake only when the gateway runs with --authorize (`levity up` turns it on for them).
# In production unknown ones wait for an operator's approval.
OCPP_UNKNOWN_CHARGE_POINTS = (
    os.environ.get("OCPP_UNKNOWN_CHARGE_POINTS", "accept" if DEBUG else "pending").strip().lower()
)
OCPP_REQUIRE_AUTHORIZATION_KEY = _env_bool("OCPP_REQUIRE_AUTHORIZATION_KEY", False)
# In production, charge points that may connect without a key are a loud warning at every
# start (charging.apps) unless this says the fleet needs it (chargers without HTTP Basic).
OCPP_ALLOW_CHARGERS_WITHOUT_KEY = _env_bool("OCPP_ALLOW_CHARGERS_WITHOUT_KEY", DEBUG)
OCPP_PENDING_INTERVAL = int(os.environ.get("OCPP_PENDING_INTERVAL", "60"))
# Failed handshakes (wrong key) allowed per charge point and source address within the window;
# more are answered 429 with Retry-After until the window ends, without checking the key.
OCPP_AUTH_FAILURES = int(os.environ.get("OCPP_AUTH_FAILURES", "5"))
OCPP_AUTH_FAILURE_WINDOW = _env_float("OCPP_AUTH_FAILURE_WINDOW", 60.0)
OCPP_AUTHORIZATION_KEY_ITERATIONS = int(
    os.environ.get("OCPP_AUTHORIZATION_KEY_ITERATIONS", "20000")
)
# Chargers' payloads (docs/validation.md): "lenient" (accept and record what real firmware gets
# wrong) or "strict" (refuse every schema violation); overridable per charge point.
OCPP_VALIDATION = os.environ.get("OCPP_VALIDATION", "lenient").strip().lower()
# Energy register readings further than this (Wh) from the previous trusted one are flagged.
OCPP_METER_JUMP_WH = int(os.environ.get("OCPP_METER_JUMP_WH", "10000"))
# A connected charger silent for 2 × OCPP_HEARTBEAT_INTERVAL + this many seconds shows offline.
OCPP_PRESENCE_MARGIN = _env_float("OCPP_PRESENCE_MARGIN", 60.0)
# Security extension: the CA signing charge point certificates (SignCertificate), PEM paths.
OCPP_CA_CERTIFICATE = os.environ.get("OCPP_CA_CERTIFICATE", "")
OCPP_CA_KEY = os.environ.get("OCPP_CA_KEY", "")
OCPP_CERTIFICATE_DAYS = int(os.environ.get("OCPP_CERTIFICATE_DAYS", "365"))
# Webhooks (docs/events.md): each request's timeout (s); retries on 5xx or no answer after
# RETRY_FIRST s, doubling up to RETRY_MAX s, for RETRY_FOR s after the event, then "failed";
# due retries are swept every SWEEP_EVERY s (beat below; a thread in embedded mode); a new or
# changed webhook reaches the other processes within CACHE_SECONDS.
OCPP_WEBHOOK_TIMEOUT = _env_float("OCPP_WEBHOOK_TIMEOUT", 10.0)
OCPP_WEBHOOK_RETRY_FIRST = _env_float("OCPP_WEBHOOK_RETRY_FIRST", 10.0)
OCPP_WEBHOOK_RETRY_MAX = _env_float("OCPP_WEBHOOK_RETRY_MAX", 3600.0)
OCPP_WEBHOOK_RETRY_FOR = _env_float("OCPP_WEBHOOK_RETRY_FOR", 86400.0)
OCPP_WEBHOOK_SWEEP_EVERY = _env_float("OCPP_WEBHOOK_SWEEP_EVERY", 30.0)
OCPP_WEBHOOK_CACHE_SECONDS = _env_float("OCPP_WEBHOOK_CACHE_SECONDS", 5.0)

# Gateway presence (README "Guarantees"): a gateway's Redis lease lives this long unrenewed
# (set the same value for the gateways; 0 turns presence off), checked this often by beat.
OCPP_GATEWAY_PRESENCE_TTL = _env_float("OCPP_GATEWAY_PRESENCE_TTL", 30.0)
OCPP_GATEWAY_PRESENCE_CHECK_EVERY = _env_float("OCPP_GATEWAY_PRESENCE_CHECK_EVERY", 10.0)

# `celery -A celery_app beat`, exactly one per deployment: a gateway that died cannot report its
# queued or outstanding CALLs, so this task ends them `timeout` (tasks/maintenance.py). Ticks no
# worker took in time expire instead of piling up while the workers are down.
CELERY_BEAT_SCHEDULE = {}
if OCPP_EXPIRE_STALE_CALLS_EVERY > 0:
    CELERY_BEAT_SCHEDULE["expire-stale-calls"] = {
        "task": "levity.expire_stale_calls",
        "schedule": OCPP_EXPIRE_STALE_CALLS_EVERY,
        # Ahead of any backlog of events on `cp.*` (docs/envelope.md, "Names on RabbitMQ").
        "options": {"expires": OCPP_EXPIRE_STALE_CALLS_EVERY, "priority": 1},
    }
# ...and a gateway that died cannot report its charge points gone: this one takes them offline.
if OCPP_GATEWAY_PRESENCE_TTL > 0 and OCPP_GATEWAY_PRESENCE_CHECK_EVERY > 0:
    CELERY_BEAT_SCHEDULE["reap-dead-gateways"] = {
        "task": "levity.reap_dead_gateways",
        "schedule": OCPP_GATEWAY_PRESENCE_CHECK_EVERY,
        "options": {"expires": OCPP_GATEWAY_PRESENCE_CHECK_EVERY, "priority": 1},
    }
# ...and frames past their retention go, a time-boxed prune at a time (levity.prune_messages).
if OCPP_MESSAGE_RETENTION_DAYS > 0 and OCPP_PRUNE_MESSAGES_EVERY > 0:
    CELERY_BEAT_SCHEDULE["prune-messages"] = {
        "task": "levity.prune_messages",
        "schedule": OCPP_PRUNE_MESSAGES_EVERY,
        "options": {"expires": OCPP_PRUNE_MESSAGES_EVERY, "priority": 1},
    }
# ...and webhook deliveries due for a retry are sent (on their own queue, levity.webhooks).
if OCPP_WEBHOOK_SWEEP_EVERY > 0:
    CELERY_BEAT_SCHEDULE["deliver-due-webhooks"] = {
        "task": "levity.deliver_due_webhooks",
        "schedule": OCPP_WEBHOOK_SWEEP_EVERY,
        "options": {"expires": OCPP_WEBHOOK_SWEEP_EVERY},
    }

# --- Monitoring (README "Monitoring") ---
# `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` when set; empty: open with
# DEBUG on, 403 in production unless METRICS_OPEN=true (a scraper-only network).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_OPEN = _env_bool("METRICS_OPEN", DEBUG)
# prometheus-client's multiprocess mode: the directory every worker and web process shares
# (prometheus-client reads the variable itself; `/metrics` sums the directory when set).
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (DEBUG) would print every request warning a second time.
        "django": {"handlers": [], "propagate": True},
        # Celery's "Task … succeeded" line per command in embedded mode (celery_app.py does the
        # same for workers).
        "celery.app.trace": {"level": "INFO" if LOG_EVERY_TASK else "WARNING"},
    },
}
