"""The middleware chain per (action, message type), built once from OCPP_MIDDLEWARE."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from charging import conf
from charging.protocol import Action, MessageType, action_name
from charging.protocol.errors import NotSupported

from .auto_remote_start import AutoRemoteStartMiddleware
from .base import Handler, MessageContext, Payload
from .core import (
    AuthorizeMiddleware,
    BootNotificationMiddleware,
    DataTransferMiddleware,
    DiagnosticsStatusNotificationMiddleware,
    FirmwareStatusNotificationMiddleware,
    HeartbeatMiddleware,
    StatusNotificationMiddleware,
)
from .security import (
    LogStatusNotificationMiddleware,
    SecurityEventNotificationMiddleware,
    SignCertificateMiddleware,
    SignedFirmwareStatusNotificationMiddleware,
)
from .transactions import (
    MeterValuesMiddleware,
    OrphanedTransactionMiddleware,
    StartTransactionMiddleware,
    StopTransactionMiddleware,
)

DEFAULT_MIDDLEWARE: dict[tuple[Any, MessageType], list[Any]] = {
    (Action.Authorize, MessageType.call): [AuthorizeMiddleware],
    (Action.BootNotification, MessageType.call): [BootNotificationMiddleware],
    (Action.DataTransfer, MessageType.call): [DataTransferMiddleware],
    (Action.DiagnosticsStatusNotification, MessageType.call): [
        DiagnosticsStatusNotificationMiddleware
    ],
    (Action.FirmwareStatusNotification, MessageType.call): [FirmwareStatusNotificationMiddleware],
    (Action.Heartbeat, MessageType.call): [HeartbeatMiddleware],
    (Action.MeterValues, MessageType.call): [MeterValuesMiddleware],
    (Action.StartTransaction, MessageType.call): [
        OrphanedTransactionMiddleware,
        StartTransactionMiddleware,
    ],
    (Action.StatusNotification, MessageType.call): [
        AutoRemoteStartMiddleware,
        StatusNotificationMiddleware,
    ],
    (Action.StopTransaction, MessageType.call): [StopTransactionMiddleware],
    # Security extension
    (Action.SecurityEventNotification, MessageType.call): [SecurityEventNotificationMiddleware],
    (Action.SignCertificate, MessageType.call): [SignCertificateMiddleware],
    (Action.SignedFirmwareStatusNotification, MessageType.call): [
        SignedFirmwareStatusNotificationMiddleware
    ],
    (Action.LogStatusNotification, MessageType.call): [LogStatusNotificationMiddleware],
}

Pipelines = dict[tuple[str, MessageType], Handler]

_lock = threading.Lock()
_pipelines: Pipelines | None = None


def not_supported(context: MessageContext) -> Payload:
    """The end of every chain: reached only when no middleware answered."""
    raise NotSupported(details={"cause": f"no handler answered {context.call.action}"})


def build_pipelines(config: Mapping[Any, Any] | None = None) -> Pipelines:
    """Build (and cache) every chain from `config`, else OCPP_MIDDLEWARE, else the default.

    Raises ImproperlyConfigured naming the first bad entry, so a typo stops start-up.
    """
    global _pipelines
    table = config if config is not None else conf.get("OCPP_MIDDLEWARE")
    if table is None:
        table = DEFAULT_MIDDLEWARE
    if not isinstance(table, Mapping):
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE must be a dict of (Action, MessageType) → list, not {table!r}"
        )
    pipelines: Pipelines = {}
    for key, stack in table.items():
        pipelines[_key(key)] = _chain(key, stack)
    if config is None:
        with _lock:
            _pipelines = pipelines
    return pipelines


def get_pipeline(action: str, message_type: MessageType) -> Handler | None:
    """The chain for an action, built on first use after start-up or a settings change."""
    pipelines = _pipelines
    if pipelines is None:
        pipelines = build_pipelines()
    return pipelines.get((action, MessageType(message_type)))


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    global _pipelines
    if setting == "OCPP_MIDDLEWARE":
        with _lock:
            _pipelines = None


def _key(key: Any) -> tuple[str, MessageType]:
    if not isinstance(key, tuple) or len(key) != 2:
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE key {key!r} must be an (Action, MessageType) tuple"
        )
    action, message_type = key
    try:
        name = action_name(action)
    except ValueError:
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE key {key!r}: {action!r} is not an OCPP 1.6 action"
        ) from None
    if isinstance(message_type, bool) or not isinstance(message_type, int):
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE key {key!r}: {message_type!r} is not a MessageType"
        )
    try:
        return name, MessageType(message_type)
    except ValueError:
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE key {key!r}: {message_type!r} is not a MessageType"
        ) from None


def _chain(key: Any, stack: Any) -> Handler:
    if isinstance(stack, str | bytes) or not isinstance(stack, list | tuple):
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE[{key!r}] must be a list of middleware, not {stack!r}"
        )
    classes = [_middleware_class(key, entry) for entry in stack]
    handler: Handler = not_supported
    for middleware, entry in zip(reversed(classes), reversed(stack), strict=True):
        try:
            handler = middleware(handler)
        except Exception as error:
            raise ImproperlyConfigured(
                f"OCPP_MIDDLEWARE[{key!r}]: {entry!r} could not be built: {error}"
            ) from error
        if not callable(handler):
            raise ImproperlyConfigured(
                f"OCPP_MIDDLEWARE[{key!r}]: an instance of {entry!r} is not callable"
            )
    return handler


def _middleware_class(key: Any, entry: Any) -> Any:
    if isinstance(entry, str):
        try:
            entry_class = import_string(entry)
        except ImportError as error:
            raise ImproperlyConfigured(
                f"OCPP_MIDDLEWARE[{key!r}]: cannot import {entry!r}: {error}"
            ) from error
    else:
        entry_class = entry
    if not isinstance(entry_class, type):
        raise ImproperlyConfigured(f"OCPP_MIDDLEWARE[{key!r}]: {entry!r} is not a middleware class")
    return entry_class
