"""Bad frames: the right OCPP-J 1.6 CALLERROR, recorded, and nothing else happens."""

from __future__ import annotations

import json

import pytest

from charging.dispatch import handle_inbound
from charging.models import ChargePoint, Connector, Message
from tests.factories import call, event, frame, sent

pytestmark = pytest.mark.django_db

START = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ([2, "b1", "Heartbeat"], "FormationViolation"),
        ([2, "b1", "BootNotification", {"chargePointVendor": "x"}], "OccurenceConstraintViolation"),
        ([2, "b1", "StartTransaction", {**START, "connectorId": "one"}], "TypeConstraintViolation"),
        ([2, "b1", "Heartbeat", {"surprise": 1}], "FormationViolation"),
        (
            [
                2,
                "b1",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Exploded"},
            ],
            "PropertyConstraintViolation",
        ),
        (
            [
                2,
                "b1",
                "StatusNotification",
                {"connectorId": -1, "errorCode": "NoError", "status": "Available"},
            ],
            "PropertyConstraintViolation",
        ),
        ([2, "b1", "StartTransaction", {**START, "connectorId": 0}], "PropertyConstraintViolation"),
        ([2, "b1", "MakeCoffee", {}], "NotImplemented"),
        ([2, "b1", "Reset", {"type": "Hard"}], "NotSupported"),
    ],
)
def test_bad_calls_get_the_1_6_code(text, code, settings):
    settings.OCPP_VALIDATION = "strict"  # lenient accepts an unknown field (docs/validation.md)
    answer = sent(handle_inbound(frame(text)))
    assert answer[:3] == [4, "b1", code]
    inbound = Message.objects.get(direction="in")
    out = Message.objects.get(direction="out")
    assert out.answer_to == inbound and out.error_code == code


@pytest.mark.parametrize(
    "text", ["not json", '{"not": "a frame"}', "[]", '[3,"x"]', '[4,"x"]', '[7,"x",{}]']
)
def test_frames_without_an_answerable_call_are_recorded_not_answered(text):
    reply = handle_inbound(frame(text))
    assert reply["send"] is None
    message = Message.objects.get()
    assert message.raw == text and message.error_code == "FormationViolation"


def test_unstorable_text_is_recorded_anyway():
    reply = handle_inbound(frame('[2,"n1","Authorize",{"idTag":"a\\u0000b"}]'))
    assert sent(reply)[:2] == [3, "n1"]
    assert Message.objects.get(direction="in").payload == {"idTag": "a\ufffdb"}
    handle_inbound(frame("\x00 not json"))
    assert Message.objects.filter(raw="\ufffd not json").exists()


def test_non_finite_numbers_are_recorded_and_answered(settings):
    settings.OCPP_VALIDATION = "strict"
    reply = handle_inbound(frame('[2,"i1","DataTransfer",{"vendorId":"v","x":Infinity}]'))
    assert sent(reply)[:3] == [4, "i1", "FormationViolation"]
    assert Message.objects.get(direction="in").payload == {"vendorId": "v", "x": None}


def test_a_bad_frame_still_counts_as_a_sign_of_life():
    handle_inbound(frame("not json"))
    assert ChargePoint.objects.get(pk="CP-1").last_message_at is not None


def test_an_event_that_cannot_be_processed_still_gets_its_one_reply():
    # 49 characters: longer than a charge point id may be.
    reply = handle_inbound(call("x1", "Heartbeat", {}, cp="C" * 49))
    assert sent(reply)[:3] == [4, "x1", "InternalError"]
    assert handle_inbound(event("mystery"))["send"] is None


def test_a_payload_error_leaves_no_effect():
    payload = {"connectorId": 2**40, "errorCode": "NoError", "status": "Available"}
    answer = sent(handle_inbound(call("big", "StatusNotification", payload)))
    assert answer[0] == 4
    assert not Connector.objects.exists()
    assert json.loads(Message.objects.get(direction="out").raw)[2] == answer[2]
