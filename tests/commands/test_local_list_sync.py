"""`commands.sync_local_list` on its own: what it sends for each answer (the charger is faked
at `commands.local_list.call`, where it looks `call` up; tests/e2e/test_local_list.py runs it
through the stack)."""

from __future__ import annotations

import pytest

from charging import commands, services
from charging.models import ConfigurationKey, IdTag
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls, answers = [], []

    def fake_call(charge_point_id, action, payload, *, wait, requested_by=""):
        calls.append((action, payload))
        return answers.pop(0)

    monkeypatch.setattr(commands.local_list, "call", fake_call)
    return calls, answers


def test_a_version_mismatch_is_answered_with_the_whole_list(sent):
    calls, answers = sent
    make_charge_point("CP-1", local_list_version=1)
    services.id_tag_save(id_tag=IdTag(id_tag="T1"))
    answers.extend([{"status": "VersionMismatch"}, {"status": "Accepted"}])
    sync = commands.sync_local_list("CP-1")
    assert [payload["updateType"] for _, payload in calls] == ["Differential", "Full"]
    assert (sync.update_type, sync.entries, sync.response) == ("Full", 1, {"status": "Accepted"})


def test_a_list_longer_than_the_charger_takes_is_not_sent(sent):
    calls, _ = sent
    point = make_charge_point("CP-1")
    ConfigurationKey.objects.create(charge_point=point, key="SendLocalListMaxLength", value="1")
    services.id_tag_save(id_tag=IdTag(id_tag="T1"))
    services.id_tag_save(id_tag=IdTag(id_tag="T2"))
    with pytest.raises(commands.InvalidCommand, match="SendLocalListMaxLength 1"):
        commands.sync_local_list("CP-1")
    assert calls == []


def test_an_unknown_charge_point_is_offline(sent):
    with pytest.raises(commands.ChargePointOffline):
        commands.sync_local_list("NOPE")
