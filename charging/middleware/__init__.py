"""OCPP pipeline: per (action, message type) a chain of middleware ending in the handler that
answers an inbound CALL (docs/glossary.md)."""

from .admission import ApprovalGateMiddleware
from .auto_remote_start import AutoRemoteStartMiddleware
from .base import Handler, MessageContext, Middleware
from .core import (
    AuthorizeHandler,
    BootNotificationHandler,
    DataTransferHandler,
    DiagnosticsStatusNotificationHandler,
    FirmwareStatusNotificationHandler,
    HeartbeatHandler,
    StatusNotificationHandler,
)
from .deprecated import (
    AuthorizeMiddleware,
    BootNotificationMiddleware,
    DataTransferMiddleware,
    DiagnosticsStatusNotificationMiddleware,
    FirmwareStatusNotificationMiddleware,
    HeartbeatMiddleware,
    LogStatusNotificationMiddleware,
    MeterValuesMiddleware,
    SecurityEventNotificationMiddleware,
    SignCertificateMiddleware,
    SignedFirmwareStatusNotificationMiddleware,
    StartTransactionMiddleware,
    StatusNotificationMiddleware,
    StopTransactionMiddleware,
)
from .pipeline import DEFAULT_MIDDLEWARE, build_pipelines, get_pipeline
from .security import (
    LogStatusNotificationHandler,
    SecurityEventNotificationHandler,
    SignCertificateHandler,
    SignedFirmwareStatusNotificationHandler,
)
from .transactions import (
    MeterValuesHandler,
    OrphanedTransactionMiddleware,
    StartTransactionHandler,
    StopTransactionHandler,
)

__all__ = [
    "DEFAULT_MIDDLEWARE",
    "ApprovalGateMiddleware",
    "AuthorizeHandler",
    "AutoRemoteStartMiddleware",
    "BootNotificationHandler",
    "DataTransferHandler",
    "DiagnosticsStatusNotificationHandler",
    "FirmwareStatusNotificationHandler",
    "Handler",
    "HeartbeatHandler",
    "LogStatusNotificationHandler",
    "MessageContext",
    "MeterValuesHandler",
    "Middleware",
    "OrphanedTransactionMiddleware",
    "SecurityEventNotificationHandler",
    "SignCertificateHandler",
    "SignedFirmwareStatusNotificationHandler",
    "StartTransactionHandler",
    "StatusNotificationHandler",
    "StopTransactionHandler",
    "build_pipelines",
    "get_pipeline",
    # Deprecated: the handlers' former names (charging.middleware.deprecated).
    "AuthorizeMiddleware",
    "BootNotificationMiddleware",
    "DataTransferMiddleware",
    "DiagnosticsStatusNotificationMiddleware",
    "FirmwareStatusNotificationMiddleware",
    "HeartbeatMiddleware",
    "LogStatusNotificationMiddleware",
    "MeterValuesMiddleware",
    "SecurityEventNotificationMiddleware",
    "SignCertificateMiddleware",
    "SignedFirmwareStatusNotificationMiddleware",
    "StartTransactionMiddleware",
    "StatusNotificationMiddleware",
    "StopTransactionMiddleware",
]
