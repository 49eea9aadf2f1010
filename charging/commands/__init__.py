"""Commands to charge points: the public Python API (docs/commands.md).

`send` validates and records an OutboundCall and enqueues the `levity.send_call` task after
commit; `wait` blocks the caller's own process (never a worker) until the call ends, on Redis
or the database, bounded; `call` does both and returns the charger's answer or raises. One
helper per OCPP 1.6 Central System → Charge Point action, with the spec's fields as snake_case
keyword arguments.

Modules: `errors` (the exceptions), `core` (send/wait/call/result), `starts` (what a call
starts: reservations, jobs, charging profiles), `actions` (the Core and other profiles'
helpers), `local_list` (`sync_local_list`), `security` (the security extension's helpers).
"""

from __future__ import annotations

from .actions import (
    cancel_reservation,
    change_availability,
    change_configuration,
    clear_cache,
    clear_charging_profile,
    data_transfer,
    get_composite_schedule,
    get_configuration,
    get_diagnostics,
    get_local_list_version,
    remote_start,
    remote_stop,
    reserve_now,
    reset,
    send_local_list,
    set_charging_profile,
    trigger_message,
    unlock_connector,
    update_firmware,
)
from .core import CENTRAL_SYSTEM_ACTIONS, call, send, wait
from .core import DEFAULT_WAIT as DEFAULT_WAIT
from .core import result as result
from .errors import (
    CallError,
    CallTimeout,
    ChargePointOffline,
    CommandError,
    InvalidCommand,
    KeyNotChanged,
)
from .local_list import LocalListSync, sync_local_list
from .security import (
    certificate_signed,
    change_authorization_key,
    delete_certificate,
    extended_trigger_message,
    get_installed_certificate_ids,
    get_log,
    install_certificate,
    signed_update_firmware,
)

# `result` and `DEFAULT_WAIT` are importable but, as before the split, not in `__all__`.
__all__ = [
    "signed_update_firmware",
    "install_certificate",
    "get_log",
    "get_installed_certificate_ids",
    "extended_trigger_message",
    "delete_certificate",
    "certificate_signed",
    "CENTRAL_SYSTEM_ACTIONS",
    "CallError",
    "CallTimeout",
    "ChargePointOffline",
    "CommandError",
    "InvalidCommand",
    "KeyNotChanged",
    "call",
    "cancel_reservation",
    "change_authorization_key",
    "change_availability",
    "change_configuration",
    "clear_cache",
    "clear_charging_profile",
    "data_transfer",
    "get_composite_schedule",
    "get_configuration",
    "get_diagnostics",
    "get_local_list_version",
    "remote_start",
    "remote_stop",
    "reserve_now",
    "reset",
    "send",
    "send_local_list",
    "set_charging_profile",
    "sync_local_list",
    "LocalListSync",
    "trigger_message",
    "unlock_connector",
    "update_firmware",
    "wait",
]
