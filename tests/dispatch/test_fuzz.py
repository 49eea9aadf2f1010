"""Whatever a charger sends, handle_inbound returns exactly one reply and never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charging.dispatch import handle_inbound
from charging.models import Message, Transaction
from charging.protocol import CHARGE_POINT_ACTIONS
from tests.factories import frame

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
calls = st.builds(
    lambda unique_id, action, payload: [2, unique_id, action, payload],
    st.text(min_size=1, max_size=36),
    st.sampled_from(sorted(CHARGE_POINT_ACTIONS)) | st.text(max_size=20),
    st.dictionaries(
        st.sampled_from(["connectorId", "idTag", "status", "errorCode", "meterValue", "x"]),
        json_values,
        max_size=4,
    ),
)
texts = st.text(max_size=60) | calls.map(json.dumps) | json_values.map(json.dumps)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(texts)
def test_any_frame_gets_one_reply(text):
    before = Message.objects.filter(direction="in").count()
    reply = handle_inbound(frame(text))
    assert set(reply) == {"v", "id", "cp", "conn", "send", "calls"}
    if reply["send"] is not None:
        answer = json.loads(reply["send"])
        assert answer[0] in (3, 4)
        if answer[0] == 4:
            assert answer[2] != "InternalError", answer
    assert Message.objects.filter(direction="in").count() == before + 1


def test_deeply_nested_payload_is_a_formation_violation_not_an_internal_error():
    # Found by benchmarks/fuzz_frames.py: nesting that json.loads accepts (500 levels) broke
    # the recursive payload cleaning before storage.
    text = '[2,"deep","DataTransfer",{"vendorId":"v","data":' + "[" * 500 + "]" * 500 + "}]"
    reply = handle_inbound(frame(text))
    assert json.loads(reply["send"])[:3] == [4, "deep", "FormationViolation"]
    assert Message.objects.get(direction="in").error_code == "FormationViolation"


def test_an_integer_too_big_for_the_database_is_a_property_constraint_violation():
    # Found by benchmarks/fuzz_frames.py: meterStart 2**64 passed the schema, then overflowed
    # the bigint column (InternalError and a traceback).
    payload = {
        "connectorId": 1,
        "idTag": "A",
        "meterStart": 2**64,
        "timestamp": "2026-01-01T00:00:00Z",
    }
    reply = handle_inbound(frame(json.dumps([2, "big", "StartTransaction", payload])))
    assert json.loads(reply["send"])[:3] == [4, "big", "PropertyConstraintViolation"]
    assert not Transaction.objects.exists()
