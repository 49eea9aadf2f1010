"""Property tests of the parser and the validator together: whatever text a charger sends, the
outcome is a Frame (valid, or refused with a well-formed OCPP-J 1.6 CALLERROR) or a logged drop;
no other exception escapes."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from charging.protocol import CHARGE_POINT_ACTIONS, Call, CallError, CallResult, FrameError, parse
from charging.protocol.enums import ALL_ACTIONS, MessageType
from charging.protocol.errors import ERROR_CODES, FormationViolation, OCPPError
from charging.protocol.frames import MAX_DEPTH, MAX_UNIQUE_ID_LENGTH
from charging.protocol.validation import validate_payload

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Valid frames of every kind a charger sends, to be mutated.
VALID_FRAMES = [
    '[2,"1","Heartbeat",{}]',
    '[2,"boot-1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
    '[2,"a1","Authorize",{"idTag":"TAG-1"}]',
    '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]',
    '[2,"t1","StartTransaction",{"connectorId":1,"idTag":"A","meterStart":0,'
    '"timestamp":"2026-01-01T00:00:00Z"}]',
    '[2,"t2","StopTransaction",{"transactionId":7,"meterStop":1200,'
    '"timestamp":"2026-01-01T01:00:00Z","reason":"Local"}]',
    '[2,"m1","MeterValues",{"connectorId":1,"transactionId":7,"meterValue":[{"timestamp":'
    '"2026-01-01T00:30:00Z","sampledValue":[{"value":"600","measurand":'
    '"Energy.Active.Import.Register","unit":"Wh"}]}]}]',
    '[2,"d1","DataTransfer",{"vendorId":"acme","messageId":"x","data":"{\\"k\\":1}"}]',
    '[3,"c1",{"status":"Accepted"}]',
    '[4,"c2","NotSupported","no",{}]',
]

_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**200)
    | st.floats()  # NaN and ±Infinity too: Python's json reads them
    | st.text(max_size=30)
    | st.sampled_from(["\ud800", "a\udfffb", "\x00", "2026-01-01T00:00:00Z", "Accepted"])
)
json_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)
unique_ids = (
    st.text(min_size=1, max_size=MAX_UNIQUE_ID_LENGTH)
    | st.text(min_size=MAX_UNIQUE_ID_LENGTH + 1, max_size=200)
    | st.sampled_from(["", "\ud800", "1", "x" * MAX_UNIQUE_ID_LENGTH])
    | st.integers()
    | st.none()
)
actions = (
    st.sampled_from(sorted(ALL_ACTIONS))  # the central system's own actions too (NotSupported)
    | st.text(max_size=30)
    | st.integers()
)
# Payloads a schema nearly accepts: known field names with values of any type.
payloads = st.dictionaries(
    st.sampled_from(
        [
            "connectorId",
            "idTag",
            "status",
            "errorCode",
            "meterStart",
            "meterStop",
            "timestamp",
            "transactionId",
            "meterValue",
            "chargePointVendor",
            "chargePointModel",
            "vendorId",
            "data",
            "reason",
            "surprise",
        ]
    ),
    json_values,
    max_size=6,
)
structured = st.builds(
    lambda message_type, unique_id, action, payload, extra: [
        message_type,
        unique_id,
        action,
        payload,
        *extra,
    ],
    st.sampled_from([2, 3, 4]) | st.sampled_from([0, 5, -1, "2", 2.0, True, None]),
    unique_ids,
    actions,
    payloads | json_values,
    st.lists(json_values, max_size=2),
).flatmap(lambda frame: st.integers(0, len(frame)).map(lambda n: frame[:n] if n else frame))
frame_like_text = st.from_regex(
    r'\A\[\s*-?[0-9]{1,2}(\.0)?\s*,\s*"[^"\\]{0,40}"\s*(,\s*"[A-Za-z]{0,25}")?'
    r'\s*(,\s*(\{.{0,40}\}|\[.{0,20}\]|null|[0-9]+|".{0,10}"))*\s*\]?\Z'
)


@st.composite
def mutated_frames(draw: st.DrawFn) -> str | bytes:
    """A valid frame with a few random edits: bit flips, cuts, insertions, replacements."""
    data = bytearray(draw(st.sampled_from(VALID_FRAMES)).encode())
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        edit = draw(st.sampled_from(["flip", "cut", "insert", "replace", "truncate"]))
        if edit == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif edit == "cut":
            del data[position : position + draw(st.integers(1, 8))]
        elif edit == "insert":
            data[position:position] = draw(
                st.sampled_from([b"[", b"]", b"{", b"}", b",", b'"', b"\\", b"\\u", b"\xff"])
                | st.binary(min_size=1, max_size=4)
            )
        elif edit == "replace" and data:
            data[position] = draw(st.sampled_from(b'[]{},:"0123456789-.eE \\\x00'))
        elif edit == "truncate":
            del data[position:]
    raw = bytes(data)
    # As the gateway forwards it: text frames are valid UTF-8, binary ones decoded with
    # replacement; the parser itself also takes bytes.
    return draw(st.sampled_from([raw, raw.decode("utf-8", "replace")]))


def deeply_nested(depth: int, action: str) -> str:
    return f'[2,"deep","{action}",{{"data":{"[" * depth}{"]" * depth}}}]'


any_text = (
    st.text()
    | st.binary().map(lambda data: data.decode("utf-8", "replace"))
    | structured.map(json.dumps)
    | frame_like_text
    | mutated_frames()
)


def assert_valid_call_error(text: str, unique_id: str) -> None:
    """`text` is an OCPP-J 1.6 CALLERROR `[4, id, code, description, {details}]` (§4.2.3),
    with a 1.6 error code, that a websocket text frame can carry."""
    text.encode("utf-8")  # a lone surrogate would make the send fail
    message = json.loads(text)
    assert isinstance(message, list) and len(message) == 5, message
    message_type, answered_id, code, description, details = message
    assert type(message_type) is int and message_type == MessageType.call_error
    assert answered_id == unique_id and 0 < len(answered_id) <= MAX_UNIQUE_ID_LENGTH
    assert code in ERROR_CODES
    assert isinstance(description, str) and isinstance(details, dict)
    assert parse(text) == CallError(unique_id, code, description, details)


def outcome(text: str | bytes) -> str | None:
    """What the central system does with `text`, as the workers do it (charging.dispatch):
    the CALLERROR it answers, or None (a valid frame goes on to the middleware; anything
    unanswerable is recorded and logged). Raises only if the protocol package is broken."""
    try:
        frame = parse(text)
    except FrameError as error:
        assert isinstance(error.error, OCPPError) and error.error.code in ERROR_CODES
        if not error.answerable:
            assert error.message_type != MessageType.call or error.unique_id is None
            return None
        assert error.unique_id is not None
        answer = CallError.from_exception(error.unique_id, error.error).to_json()
        assert_valid_call_error(answer, error.unique_id)
        return answer
    assert isinstance(frame, Call | CallResult | CallError)
    assert parse(frame.to_json()) == frame
    frame.to_json().encode("utf-8")
    if not isinstance(frame, Call):
        return None  # an answer: never answered back
    try:
        validate_payload(MessageType.call, frame.action, frame.payload)
    except OCPPError as error:
        assert error.code in ERROR_CODES
        answer = CallError.from_exception(frame.unique_id, error).to_json()
        assert_valid_call_error(answer, frame.unique_id)
        return answer
    return None


@FUZZ
@given(any_text)
@example('[2,"\\ud800","Heartbeat",{}]')  # found by this test: the answer was not UTF-8
@example('[2,"\\ud800","Heartbeat"]')
@example('[2,"x","MakeCoffee",{"\\udfff":1}]')
@example('[2,"n","DataTransfer",{"vendorId":"v","data":NaN}]')
@example('[2,"n","MeterValues",{"connectorId":1e999,"meterValue":[]}]')
@example("[2," + "9" * 5000 + "]")  # beyond Python's int digit limit
@example(deeply_nested(995, "DataTransfer"))
@example(deeply_nested(5000, "DataTransfer"))
def test_any_text_gets_a_valid_callerror_or_is_dropped(text):
    outcome(text)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 990), st.sampled_from(sorted(CHARGE_POINT_ACTIONS | {"SetChargingProfile"})))
@example(MAX_DEPTH - 2, "DataTransfer")
@example(MAX_DEPTH - 1, "DataTransfer")
def test_deep_nesting_is_refused_not_raised(depth, action):
    # Found by benchmarks/fuzz_frames.py: 500 levels passed json.loads, then broke the
    # workers' recursive payload cleaning (InternalError and a traceback).
    answer = outcome(deeply_nested(depth, action))
    if depth + 2 > MAX_DEPTH:  # the frame's array and the payload object count too
        assert answer is not None
        assert json.loads(answer)[2:4] == [
            "FormationViolation",
            FormationViolation.default_description,
        ]
        assert json.loads(answer)[4] == {"cause": f"nested deeper than {MAX_DEPTH} levels"}


@FUZZ
@given(st.sampled_from(sorted(CHARGE_POINT_ACTIONS)), payloads)
def test_every_charge_point_action_validates_or_raises_its_1_6_code(action, payload):
    text = json.dumps([2, "v1", action, payload])
    answer = outcome(text)
    if answer is not None:
        assert json.loads(answer)[2] != "InternalError"


@FUZZ
@given(st.sampled_from(sorted(ALL_ACTIONS)), payloads | st.dictionaries(st.text(), json_values))
def test_call_result_payloads_validate_or_raise_an_ocpp_error(action, payload):
    # The workers validate a charger's CALLRESULT against the schema of the CALL it answers.
    try:
        validate_payload(MessageType.call_result, action, payload)
    except OCPPError as error:
        assert error.code in ERROR_CODES


def test_a_lone_surrogate_unique_id_is_answered_in_ascii_escapes():
    answer = outcome('[2,"\\ud800","MakeCoffee",{}]')
    assert answer is not None and "\\ud800" in answer
    assert json.loads(answer)[:3] == [4, "\ud800", "NotImplemented"]
    # Readable text stays readable.
    assert CallError("é", "NotImplemented").to_json() == '[4,"é","NotImplemented","",{}]'
