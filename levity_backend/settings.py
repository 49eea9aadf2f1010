"""Settings, all from environment variables with embedded defaults (SQLite, no broker)."""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from charging import conf as charging_conf
from charging.protocol.envelope import DEFAULT_AMQP_URL, amqp_retry_options

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


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

# The broker: unset, RabbitMQ on this host (charging.protocol.envelope.DEFAULT_AMQP_URL); empty,
# none: tasks (commands) run in the calling process. `levity up` alone reads AMQP_URL as its
# switch: unset or empty, the one embedded process (which sets it empty); set, the production
# processes against that broker (README "Configuration").
AMQP_URL = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL).strip()

# --- Celery (celery_app.py reads every CELERY_* name) ---
# kombu refuses pika's retry options (Celery retries the broker connection by itself). No broker:
# memory://, with a host, since kombu warns "No hostname was supplied" for a bare one.
CELERY_BROKER_URL = amqp_retry_options(AMQP_URL)[0] if AMQP_URL else "memory://localhost/"
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = True  # inbound tasks are high-rate; commands opt in
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Prefork (Celery's default): a worker uses every core of its host, and on this workload it beat
# threads (throughput 249 against 218 calls/s with -c 2, a 5,000-charger reconnect storm 69 against
# 100 s: README "Performance"). Threads take 120 instead of 330 MiB and no hand-over through a pipe
# (the transport alone: 767 against 627 calls/s), but share one core per worker process (the
# GIL). Celery reads this even when the command line says `-P prefork` (its default value).
CELERY_WORKER_POOL = os.environ.get("CELERY_WORKER_POOL", "prefork")
if CELERY_WORKER_POOL == "threads":
    # Four threads keep a worker's core busy while others wait for PostgreSQL (throughput 218
    # calls/s with two, 240 with four); `-c` and CELERY_WORKER_CONCURRENCY still decide.
    CELERY_WORKER_CONCURRENCY = int(os.environ.get("CELERY_WORKER_CONCURRENCY") or 4)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_HEARTBEAT = 10
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = False  # events cost ~28 % throughput; enable while debugging
CELERY_TIMEZONE = "UTC"
# Celery's Django fix-up closes the DB connection around every task unless told to reuse it
# (measured 50 → 155 tasks/s). So no hard time limits on these tasks: the signal that ends a task
# mid-query leaves a connection in a broken state for the next task that reuses it.
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
# Celery's two INFO lines per task ("received", "succeeded"): one per frame, so off unless asked
# for (celery_app.py); problems are logged as warnings and errors either way.
LOG_EVERY_TASK = _env_bool("LOG_EVERY_TASK", False)
if not AMQP_URL:
    # Embedded default: no broker, so tasks (commands) run in the caller's process, and their
    # outcome is kept like a worker's.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_STORE_EAGER_RESULT = True

# --- The charging app's settings: their defaults are charging.conf.DEFAULTS (README
# "Configuration"); only what the environment sets is passed through. The defaults that differ in
# production (DEBUG off) are fixed here for this process's DEBUG.
_charging = charging_conf.from_environ(os.environ, debug=DEBUG)
globals().update(_charging)


def _charging_setting(name: str) -> Any:
    """The value charging.conf.get will read (for the beat schedule, built before start-up)."""
    return _charging.get(name, charging_conf.default(name, debug=DEBUG))


# `celery -A celery_app beat`, exactly one per deployment: a gateway that died cannot report its
# queued or outstanding CALLs, so this task ends them `timeout` (tasks/maintenance.py). Ticks no
# worker took in time expire instead of piling up while the workers are down.
CELERY_BEAT_SCHEDULE = {}
_expire_every = _charging_setting("OCPP_EXPIRE_STALE_CALLS_EVERY")
if _expire_every > 0:
    CELERY_BEAT_SCHEDULE["expire-stale-calls"] = {
        "task": "levity.expire_stale_calls",
        "schedule": _expire_every,
        # Ahead of any backlog of events on `cp.*` (docs/envelope.md, "Names on RabbitMQ").
        "options": {"expires": _expire_every, "priority": 1},
    }
# ...and a gateway that died cannot report its charge points gone: this one takes them offline.
_reap_every = _charging_setting("OCPP_GATEWAY_PRESENCE_CHECK_EVERY")
if _charging_setting("OCPP_GATEWAY_PRESENCE_TTL") > 0 and _reap_every > 0:
    CELERY_BEAT_SCHEDULE["reap-dead-gateways"] = {
        "task": "levity.reap_dead_gateways",
        "schedule": _reap_every,
        "options": {"expires": _reap_every, "priority": 1},
    }
# ...and frames past their retention go, a time-boxed prune at a time (levity.prune_messages).
_prune_every = _charging_setting("OCPP_PRUNE_MESSAGES_EVERY")
if _charging_setting("OCPP_MESSAGE_RETENTION_DAYS") > 0 and _prune_every > 0:
    CELERY_BEAT_SCHEDULE["prune-messages"] = {
        "task": "levity.prune_messages",
        "schedule": _prune_every,
        "options": {"expires": _prune_every, "priority": 1},
    }
# ...and webhook deliveries due for a retry are sent (on their own queue, levity.webhooks).
_sweep_every = _charging_setting("OCPP_WEBHOOK_SWEEP_EVERY")
if _sweep_every > 0:
    CELERY_BEAT_SCHEDULE["deliver-due-webhooks"] = {
        "task": "levity.deliver_due_webhooks",
        "schedule": _sweep_every,
        "options": {"expires": _sweep_every},
    }

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
