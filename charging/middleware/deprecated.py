"""The handlers' former `*Middleware` names, kept for OCPP_MIDDLEWARE settings that use them
(the pipeline warns once when it builds a chain with one)."""

from __future__ import annotations

from typing import Any

from . import core, security, transactions
from .base import Handler


class DeprecatedName:
    """A handler under its former name. Takes, and ignores, the `get_response` that its
    middleware form was built with: a handler never calls the rest of a chain."""

    def __init__(self, get_response: Any = None) -> None:
        super().__init__()


class AuthorizeMiddleware(DeprecatedName, core.AuthorizeHandler):
    """Deprecated: AuthorizeHandler."""


class BootNotificationMiddleware(DeprecatedName, core.BootNotificationHandler):
    """Deprecated: BootNotificationHandler."""


class DataTransferMiddleware(DeprecatedName, core.DataTransferHandler):
    """Deprecated: DataTransferHandler."""


class DiagnosticsStatusNotificationMiddleware(
    DeprecatedName, core.DiagnosticsStatusNotificationHandler
):
    """Deprecated: DiagnosticsStatusNotificationHandler."""


class FirmwareStatusNotificationMiddleware(DeprecatedName, core.FirmwareStatusNotificationHandler):
    """Deprecated: FirmwareStatusNotificationHandler."""


class HeartbeatMiddleware(DeprecatedName, core.HeartbeatHandler):
    """Deprecated: HeartbeatHandler."""


class StatusNotificationMiddleware(DeprecatedName, core.StatusNotificationHandler):
    """Deprecated: StatusNotificationHandler."""


class LogStatusNotificationMiddleware(DeprecatedName, security.LogStatusNotificationHandler):
    """Deprecated: LogStatusNotificationHandler."""


class SecurityEventNotificationMiddleware(
    DeprecatedName, security.SecurityEventNotificationHandler
):
    """Deprecated: SecurityEventNotificationHandler."""


class SignCertificateMiddleware(DeprecatedName, security.SignCertificateHandler):
    """Deprecated: SignCertificateHandler."""


class SignedFirmwareStatusNotificationMiddleware(
    DeprecatedName, security.SignedFirmwareStatusNotificationHandler
):
    """Deprecated: SignedFirmwareStatusNotificationHandler."""


class MeterValuesMiddleware(DeprecatedName, transactions.MeterValuesHandler):
    """Deprecated: MeterValuesHandler."""


class StartTransactionMiddleware(DeprecatedName, transactions.StartTransactionHandler):
    """Deprecated: StartTransactionHandler."""


class StopTransactionMiddleware(DeprecatedName, transactions.StopTransactionHandler):
    """Deprecated: StopTransactionHandler."""


DEPRECATED_NAMES: dict[str, type[Handler]] = {
    name: alias
    for name, alias in list(globals().items())
    if isinstance(alias, type) and DeprecatedName in alias.__bases__
}


def replacement(entry_class: type) -> tuple[str, str] | None:
    """(deprecated name, handler to use instead) when `entry_class` is, or subclasses, a handler
    under its former name; None otherwise."""
    for base in entry_class.__mro__:
        if DeprecatedName in base.__bases__:
            handler = base.__bases__[-1]
            return base.__name__, f"{handler.__module__.rsplit('.', 1)[0]}.{handler.__name__}"
    return None


def alias_in(module: str, name: str) -> type[Handler]:
    """A deprecated name looked up in the module of its handler (`charging.middleware.core.
    HeartbeatMiddleware`, as a dotted OCPP_MIDDLEWARE entry may say); AttributeError if none."""
    alias = DEPRECATED_NAMES.get(name)
    if alias is None or alias.__bases__[-1].__module__ != module:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return alias
