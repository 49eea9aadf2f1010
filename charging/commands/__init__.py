"""Commands to charge points: the public Python API (docs/commands.md).

`send(cp, call.Reset(type="Soft"))` validates and records an OutboundCall and enqueues the
`levity.send_call` task after commit; `wait` blocks the caller's own process (never a worker)
until the call ends, on Redis or the database, bounded; `call` does both and returns the
charger's answer or raises. Requests are the `ocpp` package's `v16.call` dataclasses; thin
helpers generated from them (`reset(cp, type="Hard")`) call `call`.

Modules: `errors` (the exceptions), `core` (send/wait/call/result), `actions` (the generated
helpers), `local_list` (`sync_local_list`), `security` (authorization keys). What a call starts
and what its answer changes is its action's entry in `charging.services.outbound_actions`.
"""

from __future__ import annotations

from .actions import (
    cancel_reservation,
    certificate_signed,
    change_availability,
    change_configuration,
    clear_cache,
    clear_charging_profile,
    data_transfer,
    delete_certificate,
    extended_trigger_message,
    get_composite_schedule,
    get_configuration,
    get_diagnostics,
    get_installed_certificate_ids,
    get_local_list_version,
    get_log,
    install_certificate,
    remote_start,
    remote_stop,
    reserve_now,
    reset,
    send_local_list,
    set_charging_profile,
    signed_update_firmware,
    trigger_message,
    unlock_connector,
    update_firmware,
)
from .core import CENTRAL_SYSTEM_ACTIONS, call, request_payload, send, wait
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
from .security import authorization_key_apply, change_authorization_key

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
    "authorization_key_apply",
    "request_payload",
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
