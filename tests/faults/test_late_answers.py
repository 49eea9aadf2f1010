"""Answers queued while every worker was down beat the stale-call expiry; nobody is locked out."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from charging import admission, services
from charging.models import ChargePoint, Message, OutboundCall
from levity.devstack import charger, wait_until
from tests.e2e.harness import in_thread

from .harness import FaultStack, kill_group, send_command

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

CHARGERS = 5
CALL_TIMEOUT = 2.0  # OCPP_CALL_TIMEOUT: short, so that the outage outlasts it
GRACE = 1.0  # OCPP_CALL_GRACE
ANSWER_AFTER = 1.0  # seconds the chargers take to answer: the workers are down by then
DOWN = 6.0  # > CALL_TIMEOUT + GRACE: on restart every call is stale
OLD_KEY, NEW_KEY = "0123456789abcdef0123", "fedcba9876543210fedc"
KEYED = "LATE-KEY"


def _send_commands(amqp_url: str, ids: list[str]) -> list[OutboundCall]:
    """RemoteStartTransaction to each of `ids`, and the key rotation to KEYED."""
    calls = [
        services.outbound_call_create(
            charge_point=ChargePoint.objects.get(id=cp_id),
            action="RemoteStartTransaction",
            payload={"connectorId": 1, "idTag": "LATE"},
            timeout=CALL_TIMEOUT,
        )
        for cp_id in ids
    ]
    calls.append(
        services.outbound_call_create(
            charge_point=ChargePoint.objects.get(id=KEYED),
            action="ChangeConfiguration",
            payload={"key": "AuthorizationKey", "value": NEW_KEY},
            timeout=CALL_TIMEOUT,
        )
    )
    for outbound in calls:
        send_command(amqp_url, outbound)
    return calls


def _until(predicate, *, what: str):
    """`wait_until` off the event loop, which runs the chargers meanwhile."""
    return asyncio.to_thread(wait_until, predicate, timeout=15, interval=0.02, what=what)


def test_answers_queued_during_a_worker_outage_are_not_lost(faults: FaultStack):
    faults.env.update(
        OCPP_CALL_TIMEOUT=str(CALL_TIMEOUT),
        OCPP_CALL_GRACE=str(GRACE),
        OCPP_EXPIRE_STALE_CALLS_EVERY="1",
        LOG_EVERY_TASK="true",
    )
    worker = faults.start_worker()
    faults.start_beat()
    _, port = faults.start_gateway(extra=["--authorize"])
    admission.charge_point_provision(charge_point_id=KEYED, key=OLD_KEY)
    ids = [f"LATE-{n}" for n in range(CHARGERS)]

    async def scenario() -> list[OutboundCall]:
        async with contextlib.AsyncExitStack() as stack:
            points = [await stack.enter_async_context(charger(port, cp_id)) for cp_id in ids]
            keyed = await stack.enter_async_context(charger(port, KEYED, password=OLD_KEY))
            for cp in [*points, keyed]:
                await cp.call(
                    call.BootNotification(charge_point_vendor="L", charge_point_model="A")
                )
                cp.delays = {"RemoteStartTransaction": ANSWER_AFTER, "ChangeConfiguration": 1.0}
            calls = await in_thread(_send_commands, faults.amqp_url, ids)
            await _until(lambda: all(cp.received for cp in [*points, keyed]), what="the CALLs")
            # Every charger holds its CALL and answers within ANSWER_AFTER: all workers die first.
            killed = kill_group(worker)
            await _until(
                lambda: all(r.answered_at for cp in [*points, keyed] for r in cp.received),
                what="the answers",
            )
            # The charger took the new key: it reconnects with it (whitepaper §3.1) once the
            # workers are back to check the handshake.
            await keyed._connection.close()
            await asyncio.sleep(max(0.0, killed + DOWN - time.monotonic()))
            faults.start_worker(name="worker-2")
        return calls

    calls = asyncio.run(scenario())
    unique_ids = [outbound.unique_id for outbound in calls]
    answered = Message.objects.filter(direction="in", message_type=3, unique_id__in=unique_ids)
    wait_until(lambda: answered.count() == len(calls), timeout=30, what="the answers processed")

    async def connects(password: str) -> bool:
        try:
            async with charger(port, KEYED, password=password) as cp:
                await cp.call(call.Heartbeat())
        except InvalidStatus as refused:
            assert refused.response.status_code == 401
            return False
        return True

    # The charger comes back with the key it accepted (before any assertion, to see both).
    new_key_works = asyncio.run(connects(NEW_KEY))
    ended = {c.unique_id: c for c in OutboundCall.objects.filter(unique_id__in=unique_ids)}
    replaced = sum("replaces the call's timeout" in m.note for m in answered)
    print(
        f"\n{len(calls)} calls answered during a {DOWN:g} s worker outage: "
        f"{sum(c.status == 'answered' for c in ended.values())} end answered, "
        f"{replaced} of them after the stale-call expiry had ended them; the charger that "
        f"accepted a new key {'got in with it' if new_key_works else 'was locked out'}"
    )
    assert {c.status for c in ended.values()} == {"answered"}
    assert all(c.response == {"status": "Accepted"} for c in ended.values())
    assert replaced, "the stale-call expiry did not run before the answers"
    assert new_key_works, "locked out with the key it accepted"
    assert not asyncio.run(connects(OLD_KEY))
