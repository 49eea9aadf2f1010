"""Whatever a charger sends, handle_inbound returns exactly one reply and never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charging.dispatch import handle_inbound
from charging.models import Message
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
