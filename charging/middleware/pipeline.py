"""The chain per (action, message type), built once from OCPP_MIDDLEWARE: middleware, then the
handler that answers."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from charging import conf
from charging.protocol import Action, MessageType, action_name
from charging.protocol.errors import NotSupported

from . import core, security, transactions
from .admission import REFUSED_UNTIL_APPROVED, ApprovalGateMiddleware
from .auto_remote_start import AutoRemoteStartMiddleware
from .base import GetResponse, Handler, MessageContext, Payload
from .deprecated import replacement

logger = logging.getLogger(__name__)

DEFAULT_MIDDLEWARE: dict[tuple[Any, MessageType], list[Any]] = {
    (Action.Authorize, MessageType.call): [core.AuthorizeHandler],
    (Action.BootNotification, MessageType.call): [core.BootNotificationHandler],
    (Action.DataTransfer, MessageType.call): [core.DataTransferHandler],
    (Action.DiagnosticsStatusNotification, MessageType.call): [
        core.DiagnosticsStatusNotificationHandler
    ],
    (Action.FirmwareStatusNotification, MessageType.call): [core.FirmwareStatusNotificationHandler],
    (Action.Heartbeat, MessageType.call): [core.HeartbeatHandler],
    (Action.MeterValues, MessageType.call): [transactions.MeterValuesHandler],
    (Action.StartTransaction, MessageType.call): [
        transactions.OrphanedTransactionMiddleware,
        transactions.StartTransactionHandler,
    ],
    (Action.StatusNotification, MessageType.call): [
        AutoRemoteStartMiddleware,
        core.StatusNotificationHandler,
    ],
    (Action.StopTransaction, MessageType.call): [transactions.StopTransactionHandler],
    # Security extension
    (Action.SecurityEventNotification, MessageType.call): [
        security.SecurityEventNotificationHandler
    ],
    (Action.SignCertificate, MessageType.call): [security.SignCertificateHandler],
    (Action.SignedFirmwareStatusNotification, MessageType.call): [
        security.SignedFirmwareStatusNotificationHandler
    ],
    (Action.LogStatusNotification, MessageType.call): [security.LogStatusNotificationHandler],
}

Pipelines = dict[tuple[str, MessageType], GetResponse]

_lock = threading.Lock()
_pipelines: Pipelines | None = None
_warned: set[type] = set()


def not_supported(context: MessageContext) -> Payload:
    """The end of a chain without a handler: reached only when no middleware answered."""
    raise NotSupported(details={"cause": f"no handler answered {context.call.action}"})


def build_pipelines(config: Mapping[Any, Any] | None = None) -> Pipelines:
    """Build (and cache) every chain from `config`, else OCPP_MIDDLEWARE, else the default.

    Raises ImproperlyConfigured naming the first bad entry, so a typo stops start-up. The
    chains of REFUSED_UNTIL_APPROVED actions start with ApprovalGateMiddleware.
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
        action, message_type = _key(key)
        chain = _chain(key, stack)
        if message_type == MessageType.call and action in REFUSED_UNTIL_APPROVED:
            chain = ApprovalGateMiddleware(chain)
        pipelines[action, message_type] = chain
    if config is None:
        with _lock:
            _pipelines = pipelines
    return pipelines


def get_pipeline(action: str, message_type: MessageType) -> GetResponse | None:
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


def _chain(key: Any, stack: Any) -> GetResponse:
    if isinstance(stack, str | bytes) or not isinstance(stack, list | tuple):
        raise ImproperlyConfigured(
            f"OCPP_MIDDLEWARE[{key!r}] must be a list of middleware, not {stack!r}"
        )
    classes = [_entry_class(key, entry) for entry in stack]
    for position, entry_class in enumerate(classes[:-1]):
        if issubclass(entry_class, Handler):
            raise ImproperlyConfigured(
                f"OCPP_MIDDLEWARE[{key!r}]: {stack[position + 1]!r} follows the handler "
                f"{stack[position]!r}, which answers every CALL: it would never run"
            )
    chain: GetResponse = not_supported
    for entry_class, entry in zip(reversed(classes), reversed(stack), strict=True):
        try:
            chain = entry_class() if issubclass(entry_class, Handler) else entry_class(chain)
        except Exception as error:
            raise ImproperlyConfigured(
                f"OCPP_MIDDLEWARE[{key!r}]: {entry!r} could not be built: {error}"
            ) from error
        if not callable(chain):
            raise ImproperlyConfigured(
                f"OCPP_MIDDLEWARE[{key!r}]: an instance of {entry!r} is not callable"
            )
    return chain


def _entry_class(key: Any, entry: Any) -> type:
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
    _warn_if_deprecated(entry_class)
    return entry_class


def _warn_if_deprecated(entry_class: type) -> None:
    """Once per class and process: a handler named as it was before it was called one."""
    former = replacement(entry_class)
    if former is None or entry_class in _warned:
        return
    _warned.add(entry_class)
    name, use = former
    named = name if entry_class.__name__ == name else f"{entry_class.__name__} (a {name})"
    text = f"OCPP_MIDDLEWARE: {named} is a deprecated name of the handler {use}; use that"
    warnings.warn(text, DeprecationWarning, stacklevel=2)
    logger.warning("%s", text)
