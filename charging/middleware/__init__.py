"""OCPP middleware: a Django-style chain per (action, message type) that answers inbound CALLs."""

from .auto_remote_start import AutoRemoteStartMiddleware
from .base import Handler, MessageContext, Middleware
from .core import (
    AuthorizeMiddleware,
    BootNotificationMiddleware,
    DataTransferMiddleware,
    DiagnosticsStatusNotificationMiddleware,
    FirmwareStatusNotificationMiddleware,
    HeartbeatMiddleware,
    StatusNotificationMiddleware,
)
from .pipeline import DEFAULT_MIDDLEWARE, build_pipelines, get_pipeline
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

__all__ = [
    "DEFAULT_MIDDLEWARE",
    "AuthorizeMiddleware",
    "AutoRemoteStartMiddleware",
    "BootNotificationMiddleware",
    "DataTransferMiddleware",
    "DiagnosticsStatusNotificationMiddleware",
    "FirmwareStatusNotificationMiddleware",
    "Handler",
    "HeartbeatMiddleware",
    "MessageContext",
    "Middleware",
    "MeterValuesMiddleware",
    "OrphanedTransactionMiddleware",
    "LogStatusNotificationMiddleware",
    "SecurityEventNotificationMiddleware",
    "SignCertificateMiddleware",
    "SignedFirmwareStatusNotificationMiddleware",
    "StartTransactionMiddleware",
    "StatusNotificationMiddleware",
    "StopTransactionMiddleware",
    "build_pipelines",
    "get_pipeline",
]
