"""The app's settings: every OCPP_* name with its default, read from Django settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "OCPP_HEARTBEAT_INTERVAL": 3600,
    "OCPP_ACCEPT_UNKNOWN_ID_TAGS": True,
    "OCPP_AUTO_REMOTE_START_ID_TAG": "anonymous",
    "OCPP_AUTO_REMOTE_START_DELAY": 1.0,
    "OCPP_CALL_TIMEOUT": 30.0,
    # A call still queued/sent this long after created + delay + timeout is given up (timeout).
    "OCPP_CALL_GRACE": 30.0,
    "OCPP_DB_RETRY_SECONDS": 25.0,
    "OCPP_GATEWAY_URL": "ws://localhost:9000/ocpp/",
    "OCPP_MIDDLEWARE": None,
    "REDIS_URL": "",  # empty: callers of charging.commands.wait poll the database  # None: charging.middleware.DEFAULT_MIDDLEWARE
}


def get(name: str) -> Any:
    """The setting `name`, or its default; read at call time so tests can override it."""
    return getattr(settings, name, DEFAULTS[name])
