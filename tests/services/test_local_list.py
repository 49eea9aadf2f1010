"""The local authorization list: versions bumped by id tag changes, full and differential
updates computed from the version a charger has."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charging import services
from charging.models import IdTag, LocalList

pytestmark = pytest.mark.django_db


def _save(id_tag: str, **fields) -> IdTag:
    return services.id_tag_save(id_tag=IdTag(id_tag=id_tag, **fields))


def test_a_charger_gets_the_whole_list_then_only_what_changed_since_its_version():
    _save("T1")
    _save("T2", status="Blocked", expiry_date=datetime(2030, 1, 1, tzinfo=UTC))
    full = services.local_list_update(since=None)
    assert (full.update_type, full.version) == ("Full", 3)
    assert full.entries == [
        {"idTag": "T1", "idTagInfo": {"status": "Accepted"}},
        {
            "idTag": "T2",
            "idTagInfo": {"status": "Blocked", "expiryDate": "2030-01-01T00:00:00.000Z"},
        },
    ]
    assert services.local_list_update(since=3) is None  # up to date

    services.id_tag_delete(id_tag=IdTag.objects.get(id_tag="T1"))
    _save("T3")
    diff = services.local_list_update(since=3)
    assert (diff.update_type, diff.version) == ("Differential", 5)
    # Changed tags with their idTagInfo; removed ones without (OCPP 1.6 §5.15).
    assert diff.entries == [{"idTag": "T3", "idTagInfo": {"status": "Accepted"}}, {"idTag": "T1"}]
    assert services.local_list_update(since=4).entries == [
        {"idTag": "T3", "idTagInfo": {"status": "Accepted"}}
    ]
    assert diff.payload() == {
        "listVersion": 5,
        "updateType": "Differential",
        "localAuthorizationList": diff.entries,
    }


def test_an_unknown_or_empty_version_gets_the_whole_list():
    _save("T1")
    version = LocalList.objects.get().version
    for since in (None, 0, -1, version + 10):
        update = services.local_list_update(since=since)
        assert update.update_type == "Full" and [e["idTag"] for e in update.entries] == ["T1"]


def test_a_tag_removed_and_made_again_is_an_update_and_a_parent_change_reaches_children():
    parent = _save("PARENT")
    child = _save("CHILD", parent=parent)
    services.id_tag_delete(id_tag=parent)
    since = LocalList.objects.get().version
    again = _save("parent")  # case-insensitive: the same IdToken
    child.parent = again
    services.id_tag_save(id_tag=child)
    entries = services.local_list_update(since=since).entries
    assert entries == [
        {"idTag": "CHILD", "idTagInfo": {"status": "Accepted", "parentIdTag": "parent"}},
        {"idTag": "parent", "idTagInfo": {"status": "Accepted"}},
    ]
    # Saving a parent sends its children again (their idTagInfo names it).
    since = LocalList.objects.get().version
    again.status = "Blocked"
    services.id_tag_save(id_tag=again)
    assert {e["idTag"] for e in services.local_list_update(since=since).entries} == {
        "parent",
        "CHILD",
    }
