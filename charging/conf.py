"""The app's settings: every OCPP_* name with its default, read from Django settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "OCPP_HEARTBEAT_INTERVAL": 3600,
    "OCPP_ACCEPT_UNKNOWN_ID_TAGS": True,
    "OCPP_AUTO_REMOTE_START_ID_TAG": "anonymous",
    "OCPP_AUTO_REMOTE_START_DELAY": 1.0,
    # Skip rules of the automatic RemoteStartTransaction (charging.services.auto_remote_start).
    "OCPP_AUTO_REMOTE_START": True,
    "OCPP_AUTO_REMOTE_START_AFTER_AUTHORIZE_GRACE": 60.0,
    "OCPP_AUTO_REMOTE_START_COOLDOWN": 120.0,
    # More transactions than this started on one connector within a minute: flagged as a loop.
    "OCPP_TRANSACTION_LOOP_THRESHOLD": 3,
    "OCPP_CALL_TIMEOUT": 30.0,
    # A call still queued/sent this long after created + delay + timeout is given up (timeout).
    "OCPP_CALL_GRACE": 30.0,
    # Seconds between periodic runs of services.outbound_call_expire_stale (0: never).
    "OCPP_EXPIRE_STALE_CALLS_EVERY": 60.0,
    # Days OCPP frames (Message rows) are kept (0: forever), and seconds between the periodic
    # prunes of older ones (services.message_prune; 0: never).
    "OCPP_MESSAGE_RETENTION_DAYS": 90,
    "OCPP_PRUNE_MESSAGES_EVERY": 10.0,
    "OCPP_DB_RETRY_SECONDS": 25.0,
    "OCPP_GATEWAY_URL": "ws://localhost:9000/ocpp/",
    "OCPP_SIMULATOR_ENABLED": False,  # the charge point simulator page at demo/ocpp/
    # Charge points not known yet (charging.admission): "accept" (create them), "pending"
    # (create them; BootNotification Pending until approved) or "reject" (HTTP 404).
    "OCPP_UNKNOWN_CHARGE_POINTS": "pending",
    # True: a charge point without an authorization key cannot connect (HTTP 401).
    "OCPP_REQUIRE_AUTHORIZATION_KEY": False,
    # False: warn at start-up (charging.apps) that charge points without a key connect freely.
    "OCPP_ALLOW_CHARGERS_WITHOUT_KEY": False,
    # BootNotification interval (seconds before the next one) while Pending or Rejected.
    "OCPP_PENDING_INTERVAL": 60,
    # Failed handshakes allowed per charge point and source address within the window (s);
    # more are answered 429 until it ends (charging.admission).
    "OCPP_AUTH_FAILURES": 5,
    "OCPP_AUTH_FAILURE_WINDOW": 60.0,
    "OCPP_AUTHORIZATION_KEY_ITERATIONS": 20000,  # PBKDF2 rounds of authorization key hashes
    # An energy register sample further than this (Wh) from the previous one is flagged.
    "OCPP_METER_JUMP_WH": 10000,
    # Seconds of silence, beyond twice the heartbeat interval, before a connected charger shows
    # as offline (its gateway may have died without reporting the disconnect).
    "OCPP_PRESENCE_MARGIN": 60,
    # Gateway presence (charging.services.presence): seconds a gateway's Redis lease lives
    # unrenewed (gateways share the value; 0: off), and seconds between the checks that take
    # the charge points of gateways without a lease offline.
    "OCPP_GATEWAY_PRESENCE_TTL": 30.0,
    "OCPP_GATEWAY_PRESENCE_CHECK_EVERY": 10.0,
    # Security extension: the CA that signs charge point certificates (PEM file paths; unset:
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
    "OCPP_MIDDLEWARE": None,  # None: charging.middleware.DEFAULT_MIDDLEWARE
    "METRICS_TOKEN": "",  # set: /metrics needs `Authorization: Bearer <token>`
    "METRICS_OPEN": False,  # without a token: /metrics open (True) or 403
    "PROMETHEUS_MULTIPROC_DIR": "",  # empty: /metrics serves this process's counters
    "REDIS_URL": "",  # empty: callers of charging.commands.wait poll the database
    # Socket timeout of every Redis command (charging.coordination): a frozen Redis costs this.
    "OCPP_REDIS_TIMEOUT": 0.5,
}


def get(name: str) -> Any:
    """The setting `name`, or its default; read at call time so tests can override it."""
    return getattr(settings, name, DEFAULTS[name])
