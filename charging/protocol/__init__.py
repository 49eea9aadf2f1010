"""OCPP-J 1.6 protocol: frames, error codes, schema validation and the gateway↔worker envelope.

Pure Python: no Django, no Celery, no sockets, so the gateway and the workers share it.
"""

from .enums import CHARGE_POINT_ACTIONS, Action, MessageType, action_name
from .errors import OCPPError
from .frames import Call, CallError, CallResult, Frame, FrameError, parse

__all__ = [
    "CHARGE_POINT_ACTIONS",
    "Action",
    "Call",
    "CallError",
    "CallResult",
    "Frame",
    "FrameError",
    "MessageType",
    "OCPPError",
    "action_name",
    "parse",
]
