"""OCPP-J 1.6 error codes as exceptions: each class carries the code it puts on the wire."""


class OCPPError(Exception):
    """An error answered to the peer as a CALLERROR with `code` (OCPP-J 1.6 §4.2.3)."""

    code = "GenericError"
    default_description = "Any other error not covered by the previous ones"

    def __init__(self, description: str | None = None, details: dict | None = None) -> None:
        self.description = description or self.default_description
        self.details = details or {}
        super().__init__(self.description)


class ActionNotImplemented(OCPPError):  # the builtin NotImplemented is taken
    code = "NotImplemented"
    default_description = "Requested Action is not known by receiver"


class NotSupported(OCPPError):
    code = "NotSupported"
    default_description = "Requested Action is recognized but not supported by the receiver"


class InternalError(OCPPError):
    code = "InternalError"
    default_description = "An internal error occurred and the receiver was not able to process the requested Action successfully"


class ProtocolError(OCPPError):
    code = "ProtocolError"
    default_description = "Payload for Action is incomplete"


class SecurityError(OCPPError):
    code = "SecurityError"
    default_description = "During the processing of Action a security issue occurred preventing receiver from completing the Action successfully"


class FormationViolation(OCPPError):
    # OCPP-J 1.6 spells it FormationViolation; the `ocpp` package uses 2.0's FormatViolation.
    code = "FormationViolation"
    default_description = (
        "Payload for Action is syntactically incorrect or not conform the PDU structure for Action"
    )


class PropertyConstraintViolation(OCPPError):
    code = "PropertyConstraintViolation"
    default_description = (
        "Payload is syntactically correct but at least one field contains an invalid value"
    )


class OccurenceConstraintViolation(OCPPError):
    # Misspelled on purpose: this is the 1.6 wire code.
    code = "OccurenceConstraintViolation"
    default_description = "Payload for Action is syntactically correct but at least one of the fields violates occurence constraints"


class TypeConstraintViolation(OCPPError):
    code = "TypeConstraintViolation"
    default_description = 'Payload for Action is syntactically correct but at least one of the fields violates data type constraints (e.g. "somestring": 12)'


class GenericError(OCPPError):
    code = "GenericError"


ERROR_CODES: frozenset[str] = frozenset(
    cls.code
    for cls in (
        ActionNotImplemented,
        NotSupported,
        InternalError,
        ProtocolError,
        SecurityError,
        FormationViolation,
        PropertyConstraintViolation,
        OccurenceConstraintViolation,
        TypeConstraintViolation,
        GenericError,
    )
)
