"""The local authorization list through the whole stack: the whole list first, then only the
changes, nothing when up to date; the charger's accepted version is stored."""

from __future__ import annotations

import asyncio

import pytest

from charging import commands, services
from charging.models import ChargePoint, IdTag
from levity.devstack import charger

from .test_commands import WAIT, _connected, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def test_sync_sends_the_whole_list_then_the_changes(stack):
    cp_id = "E2E-LOCAL-LIST"
    services.id_tag_save(id_tag=IdTag(id_tag="LL-1"))

    async def scenario() -> list:
        async with charger(stack.port, cp_id) as cp:
            await in_thread(_connected, cp_id)
            first = await in_thread(commands.sync_local_list, cp_id, wait=WAIT)
            await in_thread(services.id_tag_save, id_tag=IdTag(id_tag="LL-2"))
            second = await in_thread(commands.sync_local_list, cp_id, wait=WAIT)
            third = await in_thread(commands.sync_local_list, cp_id, wait=WAIT)
            assert (first.update_type, second.update_type, third.update_type) == (
                "Full",
                "Differential",
                None,  # up to date: nothing sent
            )
            assert first.response == second.response == {"status": "Accepted"}
            return [r.payload for r in cp.received]

    sent = asyncio.run(scenario())
    assert len(sent) == 2
    full, diff = sent
    assert full["updateType"] == "Full"
    assert [e["idTag"] for e in full["localAuthorizationList"]] == ["LL-1"]
    assert diff["updateType"] == "Differential" and diff["listVersion"] > full["listVersion"]
    assert [e["idTag"] for e in diff["localAuthorizationList"]] == ["LL-2"]
    assert ChargePoint.objects.get(pk=cp_id).local_list_version == diff["listVersion"]
