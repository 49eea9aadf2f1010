"""The app's settings: every name with its one default (DEFAULTS), read from Django settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .protocol.envelope import DEFAULT_PRESENCE_TTL


class ByMode(NamedTuple):
    """A default that differs in production (DEBUG off): the secure one there (docs/security.md)."""

    development: Any
    production: Any


# Every setting the app reads, with its default; README "Configuration" documents each one with
# the same default (tests/test_conf.py holds them to it). A project's settings set only what
# differs (levity_backend/settings.py: what the environment sets, through `from_environ`).
DEFAULTS: dict[str, Any] = {
    # HeartbeatInterval given to chargers in the BootNotification answer (seconds).
    "OCPP_HEARTBEAT_INTERVAL": 3600,
    # Authorize answers unknown idTags Accepted (the seed's behaviour).
    "OCPP_ACCEPT_UNKNOWN_ID_TAGS": True,
    # The automatic RemoteStartTransaction on Preparing (charging.services.auto_remote_start):
    # its idTag, the seconds before it is sent (Grizzl-E needs a pause), on or off, and how long
    # after an accepted Authorize / an accepted RemoteStart to the connector it holds off.
    "OCPP_AUTO_REMOTE_START_ID_TAG": "anonymous",
    "OCPP_AUTO_REMOTE_START_DELAY": 1.0,
    "OCPP_AUTO_REMOTE_START": True,
    "OCPP_AUTO_REMOTE_START_AFTER_AUTHORIZE_GRACE": 60.0,
    "OCPP_AUTO_REMOTE_START_COOLDOWN": 120.0,
    # More transactions than this started on one connector within a minute: a charge-start loop
    # (0: off).
    "OCPP_TRANSACTION_LOOP_THRESHOLD": 3,
    # Seconds a CALL of ours waits for the charger's answer.
    "OCPP_CALL_TIMEOUT": 30.0,
    # A call still queued/sent this long after created + delay + timeout is given up (timeout).
    "OCPP_CALL_GRACE": 30.0,
    # Seconds between periodic runs of services.outbound_call_expire_stale (0: never).
    "OCPP_EXPIRE_STALE_CALLS_EVERY": 60.0,
    # Days OCPP frames (Message rows) are kept (0: forever), and seconds between the periodic
    # prunes of older ones (services.message_prune; 0: never).
    "OCPP_MESSAGE_RETENTION_DAYS": 90,
    "OCPP_PRUNE_MESSAGES_EVERY": 10.0,
    # Seconds a task retries transient database errors in-process.
    "OCPP_DB_RETRY_SECONDS": 25.0,
    # The gateway URL shown to people (the simulator page is prefilled with it).
    "OCPP_GATEWAY_URL": "ws://localhost:9000/ocpp/",
    # The charge point simulator page at demo/ocpp/.
    "OCPP_SIMULATOR_ENABLED": ByMode(True, False),
    # Charge points not known yet (charging.admission): "accept" (create them), "pending"
    # (create them; BootNotification Pending until approved) or "reject" (HTTP 404).
    "OCPP_UNKNOWN_CHARGE_POINTS": ByMode("accept", "pending"),
    # True: a charge point without an authorization key cannot connect (HTTP 401).
    "OCPP_REQUIRE_AUTHORIZATION_KEY": False,
    # False: warn at start-up (charging.apps) that charge points without a key connect freely.
    "OCPP_ALLOW_CHARGERS_WITHOUT_KEY": ByMode(True, False),
    # BootNotification interval (seconds before the next one) while Pending or Rejected.
    "OCPP_PENDING_INTERVAL": 60,
    # Failed handshakes allowed per charge point and source address within the window (s);
    # more are answered 429 until it ends (charging.admission).
    "OCPP_AUTH_FAILURES": 5,
    "OCPP_AUTH_FAILURE_WINDOW": 60.0,
    # PBKDF2 rounds of authorization key hashes (checked at every connect).
    "OCPP_AUTHORIZATION_KEY_ITERATIONS": 20000,
    # An energy register sample further than this (Wh) from the previous one is flagged.
    "OCPP_METER_JUMP_WH": 10000,
    # Seconds of silence, beyond twice the heartbeat interval, before a connected charger shows
    # as offline (its gateway may have died without reporting the disconnect).
    "OCPP_PRESENCE_MARGIN": 60.0,
    # Gateway presence (charging.services.presence): seconds a gateway's Redis lease lives
    # unrenewed (gateways share the value; 0: off), and seconds between the checks that take
    # the charge points of gateways without a lease offline.
    "OCPP_GATEWAY_PRESENCE_TTL": DEFAULT_PRESENCE_TTL,
    "OCPP_GATEWAY_PRESENCE_CHECK_EVERY": 10.0,
    # Security extension: the CA that signs charge point certificates (PEM file paths; empty:
    # SignCertificate is answered Rejected), and the validity of what it signs, in days.
    "OCPP_CA_CERTIFICATE": "",
    "OCPP_CA_KEY": "",
    "OCPP_CERTIFICATE_DAYS": 365,
    # Chargers' payloads (docs/validation.md): "lenient" accepts and records the soft violations
    # of real firmware, "strict" refuses them; a charge point's own setting overrides it.
    "OCPP_VALIDATION": "lenient",
    # Webhooks (docs/events.md): seconds per request, the first retry's delay (doubling up to
    # the maximum), how long a delivery is retried before it fails, seconds between the sweeps
    # that send the due retries, and how long a process trusts its list of subscriptions.
    "OCPP_WEBHOOK_TIMEOUT": 10.0,
    "OCPP_WEBHOOK_RETRY_FIRST": 10.0,
    "OCPP_WEBHOOK_RETRY_MAX": 3600.0,
    "OCPP_WEBHOOK_RETRY_FOR": 86400.0,
    "OCPP_WEBHOOK_SWEEP_EVERY": 30.0,
    "OCPP_WEBHOOK_CACHE_SECONDS": 5.0,
    # The middleware table (a Django setting only); None: charging.middleware.DEFAULT_MIDDLEWARE.
    "OCPP_MIDDLEWARE": None,
    # Socket timeout of every Redis command (charging.coordination): a frozen Redis costs this.
    "OCPP_REDIS_TIMEOUT": 0.5,
    # Redis for short-lived coordination (wakes callers of charging.commands.wait); empty: they
    # poll the database.
    "REDIS_URL": "redis://localhost:6379/0",
    # Set: /metrics needs `Authorization: Bearer <token>`.
    "METRICS_TOKEN": "",
    # Without a token: /metrics open (True) or 403.
    "METRICS_OPEN": ByMode(True, False),
    # prometheus-client's multiprocess directory; empty: /metrics serves this process's counters.
    "PROMETHEUS_MULTIPROC_DIR": "",
}

_TRUE = frozenset({"1", "true", "yes", "on"})
_UNSET = object()


def default(name: str, *, debug: bool) -> Any:
    """The default of `name` in development (`debug`) or production."""
    value = DEFAULTS[name]
    if isinstance(value, ByMode):
        return value.development if debug else value.production
    return value


def get(name: str) -> Any:
    """The setting `name`, or its default; read at call time so tests can override it."""
    value = getattr(settings, name, _UNSET)
    return default(name, debug=settings.DEBUG) if value is _UNSET else value


def _parse(name: str, text: str) -> Any:
    kind = type(default(name, debug=True))
    if kind is str:
        return text.strip()
    if kind is bool:
        return text.strip().lower() in _TRUE
    try:
        return kind(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={text!r} is not {kind.__name__}") from None


def from_environ(environ: Mapping[str, str], *, debug: bool) -> dict[str, Any]:
    """The settings a project takes from its environment: each name of DEFAULTS set there (an
    empty value, but for strings, counts as unset), parsed as its default's type; and the
    defaults that depend on DEBUG fixed for `debug`, as the process was started (a test runner
    turns DEBUG off later without changing them)."""
    found = {
        name: default(name, debug=debug) for name, v in DEFAULTS.items() if isinstance(v, ByMode)
    }
    for name, value in DEFAULTS.items():
        text = environ.get(name)
        if text is None or value is None:  # None: not an environment variable (OCPP_MIDDLEWARE)
            continue
        if text.strip() or isinstance(default(name, debug=True), str):
            found[name] = _parse(name, text)
    return found
