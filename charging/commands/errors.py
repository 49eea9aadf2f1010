"""Why a command failed: the exceptions `send`, `call` and the helpers raise (docs/commands.md)."""

from __future__ import annotations

from typing import Any

from ..models import OutboundCall


class CommandError(Exception):
    """A command failed; `.call` is its OutboundCall when one was recorded."""

    def __init__(self, message: str, *, call: OutboundCall | None = None) -> None:
        super().__init__(message)
        self.call = call


class InvalidCommand(CommandError):
    """Refused before sending: unknown or charger-side action, or a payload its 1.6 schema
    rejects. `.code` is the OCPP error code, `.details` says why. Nothing was recorded."""

    def __init__(self, message: str, *, code: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or {}


class ChargePointOffline(CommandError):
    """The charge point is unknown, not connected, or its connection went away before it
    answered."""


class CallTimeout(CommandError):
    """No answer within the call's timeout (or within the caller's wait)."""


class KeyNotChanged(CommandError):
    """The charger answered ChangeConfiguration AuthorizationKey with something other than
    Accepted (`.status`: Rejected, RebootRequired, NotSupported); the stored key is unchanged."""

    def __init__(self, message: str, *, status: str, call: OutboundCall | None = None) -> None:
        super().__init__(message, call=call)
        self.status = status


class CallError(CommandError):
    """The charger answered CALLERROR (or a CALLRESULT its schema rejects)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        description: str = "",
        details: Any = None,
        call: OutboundCall | None = None,
    ) -> None:
        super().__init__(message, call=call)
        self.code = code
        self.description = description
        self.details = details
