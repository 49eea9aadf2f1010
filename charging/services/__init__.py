"""Writes of the charging domain: keyword-only, typed business rules, no sockets and no CALLERRORs.

One module per entity; every public name is re-exported here, so `services.<name>` keeps working.
"""

from .authorization_keys import REDACTED
from .auto_remote_start import (
    auto_remote_start_confirm,
    auto_remote_start_ended,
    auto_remote_start_skip_reason,
    connector_transaction_loop_check,
)
from .charge_points import (
    MAX_CHARGE_POINT_ID_LENGTH,
    charge_point_authorized,
    charge_point_boot,
    charge_point_diagnostics_status,
    charge_point_firmware_status,
    charge_point_heartbeat,
    charge_point_local_list_version_set,
    charge_point_lock,
    charge_point_lock_received,
    charge_point_validation_set,
    configuration_key_set,
    configuration_keys_store,
)
from .charging_profiles import (
    charging_profile_answered,
    charging_profile_bind,
    charging_profile_call_ended,
    charging_profile_in,
    charging_profile_refusal,
    charging_profile_request,
    charging_profile_with_id,
    charging_profiles_clear_answered,
    charging_profiles_end,
    charging_profiles_matching,
)
from .connections import (
    charge_point_connected,
    charge_point_disconnected,
)
from .connectors import (
    connector_availability_set,
    connector_composite_schedule_set,
    connector_remote_start_result,
    connector_status_update,
)
from .expiry import Expired, expire_due
from .id_tags import (
    id_tag_authorize,
)
from .jobs import JOB_REQUESTS, job_answered, job_create, job_status_notified
from .local_list import LocalListUpdate, id_tag_delete, id_tag_save, local_list_update
from .messages import (
    clean_json,
    clean_key,
    clean_text,
    message_build,
    message_record,
    message_record_violations,
)
from .meter_values import (
    SAMPLED_VALUE_DEFAULTS,
    meter_values_record,
)
from .outbound_actions import (
    ActionSpec,
    CallRefused,
    Start,
    Started,
    action_never_replayed,
    action_register,
    action_spec,
    outbound_call_spec,
)
from .outbound_calls import (
    ANSWER_REPLACES as OUTBOUND_CALL_ANSWER_REPLACES,
)
from .outbound_calls import (
    outbound_call_complete,
    outbound_call_confirm,
    outbound_call_create,
    outbound_call_expire_stale,
    outbound_call_hand_over,
    outbound_call_published,
    outbound_call_start_send,
    outbound_call_wire,
)
from .presence import charge_point_reap_dead_gateways, gateway_list_dead
from .reservations import (
    reservation_answered,
    reservation_cancel_answered,
    reservation_create,
    reservation_expire_due,
    reservation_use,
)
from .retention import Pruned, message_prune
from .security import security_event_record
from .transactions import (
    DEFAULT_STOP_REASON,
    ORPHAN_STOP_REASON,
    transaction_close_orphans,
    transaction_start,
    transaction_stop,
)
from .webhooks import (
    webhook_create,
    webhook_delete,
    webhook_deliver,
    webhook_deliveries_create,
    webhook_delivery_resend,
    webhook_ids_due,
    webhook_signature,
    webhook_wake,
)

__all__ = [
    "Expired",
    "expire_due",
    "ActionSpec",
    "CallRefused",
    "Start",
    "Started",
    "action_never_replayed",
    "action_register",
    "action_spec",
    "outbound_call_spec",
    "charging_profile_answered",
    "charging_profile_bind",
    "charging_profile_call_ended",
    "charging_profile_in",
    "charging_profile_refusal",
    "charging_profile_request",
    "charging_profile_with_id",
    "charging_profiles_clear_answered",
    "charging_profiles_end",
    "charging_profiles_matching",
    "DEFAULT_STOP_REASON",
    "MAX_CHARGE_POINT_ID_LENGTH",
    "ORPHAN_STOP_REASON",
    "REDACTED",
    "SAMPLED_VALUE_DEFAULTS",
    "auto_remote_start_confirm",
    "auto_remote_start_ended",
    "auto_remote_start_skip_reason",
    "charge_point_authorized",
    "charge_point_boot",
    "charge_point_connected",
    "charge_point_diagnostics_status",
    "charge_point_disconnected",
    "charge_point_firmware_status",
    "charge_point_heartbeat",
    "charge_point_local_list_version_set",
    "charge_point_lock",
    "charge_point_lock_received",
    "charge_point_validation_set",
    "charge_point_reap_dead_gateways",
    "clean_json",
    "clean_key",
    "clean_text",
    "configuration_key_set",
    "configuration_keys_store",
    "connector_availability_set",
    "connector_transaction_loop_check",
    "gateway_list_dead",
    "id_tag_delete",
    "JOB_REQUESTS",
    "job_answered",
    "job_create",
    "job_status_notified",
    "id_tag_save",
    "local_list_update",
    "LocalListUpdate",
    "reservation_answered",
    "reservation_cancel_answered",
    "reservation_create",
    "reservation_expire_due",
    "reservation_use",
    "security_event_record",
    "connector_composite_schedule_set",
    "connector_remote_start_result",
    "connector_status_update",
    "id_tag_authorize",
    "message_prune",
    "message_build",
    "message_record",
    "message_record_violations",
    "Pruned",
    "meter_values_record",
    "OUTBOUND_CALL_ANSWER_REPLACES",
    "outbound_call_complete",
    "outbound_call_confirm",
    "outbound_call_create",
    "outbound_call_expire_stale",
    "outbound_call_hand_over",
    "outbound_call_wire",
    "outbound_call_published",
    "outbound_call_start_send",
    "transaction_close_orphans",
    "transaction_start",
    "transaction_stop",
    "webhook_create",
    "webhook_delete",
    "webhook_deliver",
    "webhook_deliveries_create",
    "webhook_delivery_resend",
    "webhook_ids_due",
    "webhook_signature",
    "webhook_wake",
]
