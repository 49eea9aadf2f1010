"""charging.protocol.frames: parsing OCPP-J text into frames, and back."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charging.protocol import Call, CallError, CallResult, FrameError, MessageType, parse
from charging.protocol.frames import CALL, CALLERROR, CALLRESULT, INVALID, FrameHead, peek


def test_call_round_trips():
    frame = parse('[2,"42","Heartbeat",{}]')
    assert frame == Call("42", "Heartbeat", {})
    assert parse(frame.to_json()) == frame


def test_call_result_and_call_error_round_trip():
    result = CallResult("7", {"currentTime": "2026-01-01T00:00:00Z"})
    error = CallError("8", "NotSupported", "no", {"cause": "x"})
    assert parse(result.to_json()) == result
    assert parse(error.to_json()) == error


def test_call_error_without_description_or_details_is_accepted():
    assert parse('[4,"9","InternalError"]') == CallError("9", "InternalError", "", {})


def test_bytes_are_decoded():
    assert parse(b'[2,"1","Heartbeat",{}]') == Call("1", "Heartbeat", {})


@pytest.mark.parametrize(
    ("text", "unique_id", "answerable"),
    [
        ("not json", None, False),
        ('{"a": 1}', None, False),
        ("[]", None, False),
        ('[2,"1","Heartbeat"]', "1", True),
        ('[2,"1",7,{}]', "1", True),
        ('[2,"1","Heartbeat",[]]', "1", True),
        ('[9,"1","Heartbeat",{}]', "1", False),
        ('[3,"1"]', "1", False),  # a broken CALLRESULT is never answered
        ('[4,"1"]', "1", False),
        ('[2,1,"Heartbeat",{}]', None, False),
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', None, False),
        (b"\xff\xfe", None, False),
    ],
)
def test_bad_frames_raise_formation_violation(text, unique_id, answerable):
    with pytest.raises(FrameError) as raised:
        parse(text)
    assert raised.value.error.code == "FormationViolation"
    assert raised.value.unique_id == unique_id
    assert raised.value.answerable is answerable


def test_frame_error_keeps_the_message_type():
    with pytest.raises(FrameError) as raised:
        parse('[2,"1","Heartbeat"]')
    assert raised.value.message_type == MessageType.call


def _check(text: str | bytes) -> None:
    try:
        frame = parse(text)
    except FrameError as error:
        assert error.error.code == "FormationViolation"
        return
    assert isinstance(frame, Call | CallResult | CallError)
    assert parse(frame.to_json()) == frame


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_is_a_frame_or_a_frame_error(text):
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_any_bytes_are_a_frame_or_a_frame_error(data):
    _check(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
frame_like = st.tuples(
    st.sampled_from([2, 3, 4, 5, "2", None, 2.0, True]),
    st.one_of(st.text(max_size=40), st.integers(), st.none()),
).flatmap(lambda head: st.lists(json_values, max_size=4).map(lambda rest: [*head, *rest]))


@settings(max_examples=400, deadline=None)
@given(frame_like)
def test_frame_shaped_json_is_a_frame_or_a_frame_error(value):
    _check(json.dumps(value))
    assert peek(json.dumps(value)).message_type in {CALL, CALLRESULT, CALLERROR, INVALID}


def test_peek_reads_type_id_and_action_without_validating():
    assert peek('[2,"1","Heartbeat",{}]') == ("CALL", "1", "Heartbeat")
    assert peek('[3,"1",{}]') == ("CALLRESULT", "1", "")
    assert peek('[4,"1","InternalError","",{}]') == ("CALLERROR", "1", "")
    assert peek("not json") == ("invalid", "", "")
    assert peek('[9,"1"]') == ("invalid", "1", "")
    assert peek("{}") == ("invalid", "", "")
    # Lenient where `parse` refuses: a CALL without its payload still counts as a CALL.
    assert peek('[2,"1","Heartbeat"]') == FrameHead(CALL, "1", "Heartbeat")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_peek_never_raises(text):
    assert isinstance(peek(text), FrameHead)
