"""Commands to charge points through the whole stack: `charging.commands` → Celery
`levity.send_call` (worker) → RabbitMQ `levity.calls` → gateway → charger → answer → worker."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import pytest
from django_celery_results.models import TaskResult
from ocpp.v16 import call as ocpp_call

from charging import commands
from charging.models import ChargePoint, ConfigurationKey, Connector, OutboundCall
from levity.devstack import DEFAULT_ANSWERS, charger, wait_until

from .harness import in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]

WAIT = 20.0


def _connected(cp_id: str, value: bool = True) -> None:
    wait_until(
        lambda: ChargePoint.objects.filter(id=cp_id, connected=value).exists(),
        timeout=20,
        what=f"{cp_id} connected={value}",
    )


COMMANDS: list[tuple[str, dict[str, Any], str]] = [
    ("remote_start", {"id_tag": "TAG-1", "connector_id": 1}, "RemoteStartTransaction"),
    ("remote_stop", {"transaction_id": 42}, "RemoteStopTransaction"),
    ("reset", {"type": "Hard"}, "Reset"),
    ("change_availability", {"connector_id": 1, "type": "Inoperative"}, "ChangeAvailability"),
    ("change_configuration", {"key": "HeartbeatInterval", "value": "60"}, "ChangeConfiguration"),
    ("get_configuration", {}, "GetConfiguration"),
    ("clear_cache", {}, "ClearCache"),
    ("unlock_connector", {"connector_id": 1}, "UnlockConnector"),
    ("data_transfer", {"vendor_id": "Levity", "message_id": "ping", "data": "x"}, "DataTransfer"),
    (
        "trigger_message",
        {"requested_message": "StatusNotification", "connector_id": 1},
        "TriggerMessage",
    ),
    (
        "update_firmware",
        {"location": "https://example.com/fw.bin", "retrieve_date": "2026-01-01T00:00:00Z"},
        "UpdateFirmware",
    ),
    ("get_diagnostics", {"location": "ftp://example.com/"}, "GetDiagnostics"),
    (
        "send_local_list",
        {
            "list_version": 3,
            "update_type": "Full",
            "local_authorization_list": [{"idTag": "TAG-1", "idTagInfo": {"status": "Accepted"}}],
        },
        "SendLocalList",
    ),
    ("get_local_list_version", {}, "GetLocalListVersion"),
    (
        "reserve_now",
        {
            "connector_id": 1,
            "expiry_date": "2030-01-01T00:00:00Z",
            "id_tag": "TAG-1",
            "reservation_id": 9,
        },
        "ReserveNow",
    ),
    ("cancel_reservation", {"reservation_id": 9}, "CancelReservation"),
    (
        "set_charging_profile",
        {
            "connector_id": 1,
            "cs_charging_profiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.5}],
                },
            },
        },
        "SetChargingProfile",
    ),
    ("clear_charging_profile", {"connector_id": 1}, "ClearChargingProfile"),
    ("get_composite_schedule", {"connector_id": 1, "duration": 3600}, "GetCompositeSchedule"),
    # Security extension
    (
        "certificate_signed",
        {"certificate_chain": "-----BEGIN CERTIFICATE-----"},
        "CertificateSigned",
    ),
    (
        "install_certificate",
        {"certificate_type": "CentralSystemRootCertificate", "certificate": "-----BEGIN"},
        "InstallCertificate",
    ),
    (
        "delete_certificate",
        {
            "certificate_hash_data": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "5ba7",
                "issuerKeyHash": "c4e1",
                "serialNumber": "0a1b",
            }
        },
        "DeleteCertificate",
    ),
    (
        "get_installed_certificate_ids",
        {"certificate_type": "ManufacturerRootCertificate"},
        "GetInstalledCertificateIds",
    ),
    (
        "get_log",
        {
            "log_type": "SecurityLog",
            "request_id": 3,
            "log": {"remote_location": "https://example.com/"},
        },
        "GetLog",
    ),
    (
        "signed_update_firmware",
        {
            "request_id": 4,
            "firmware": {
                "location": "https://example.com/fw.bin",
                "retrieve_date_time": "2026-01-01T00:00:00Z",
                "signing_certificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2ln",
            },
        },
        "SignedUpdateFirmware",
    ),
    (
        "extended_trigger_message",
        {"requested_message": "SignChargePointCertificate"},
        "ExtendedTriggerMessage",
    ),
]


def test_every_action_has_an_end_to_end_case():
    assert {action for _, _, action in COMMANDS} == set(DEFAULT_ANSWERS)


@pytest.mark.parametrize(("helper", "kwargs", "action"), COMMANDS, ids=[c[2] for c in COMMANDS])
def test_an_accepted_command(stack, helper, kwargs, action):
    cp_id = f"E2E-CMD-{action}"[:48]

    async def scenario() -> dict[str, Any]:
        async with charger(stack.port, cp_id) as cp:
            await in_thread(_connected, cp_id)
            answer = await in_thread(
                getattr(commands, helper), cp_id, wait=WAIT, requested_by="e2e", **kwargs
            )
            (received,) = cp.received
            assert received.action == action
            return answer

    answer = asyncio.run(scenario())
    assert answer == DEFAULT_ANSWERS[action]
    call = OutboundCall.objects.get(charge_point_id=cp_id)
    assert (call.status, call.requested_by, call.response) == ("answered", "e2e", answer)
    assert call.sent_at and call.answered_at and call.message.raw
    outcome = TaskResult.objects.get(task_id=call.task_id)
    assert outcome.task_name == "levity.send_call" and '"status": "answered"' in outcome.result
    if action == "GetConfiguration":
        assert set(
            ConfigurationKey.objects.filter(charge_point_id=cp_id).values_list("key", "value")
        ) == {("HeartbeatInterval", "300"), ("NumberOfConnectors", "2")}
    elif action == "ChangeConfiguration":
        assert ConfigurationKey.objects.get(charge_point_id=cp_id).value == "60"
    elif action == "ChangeAvailability":
        assert Connector.objects.get(charge_point_id=cp_id, connector_id=1).availability == (
            "Inoperative"
        )
    elif action in ("GetLocalListVersion", "SendLocalList"):
        expected = 7 if action == "GetLocalListVersion" else 3
        assert ChargePoint.objects.get(id=cp_id).local_list_version == expected
    elif action == "GetCompositeSchedule":
        assert Connector.objects.get(charge_point_id=cp_id, connector_id=1).composite_schedule


def test_a_rejected_command_is_an_answer_and_changes_nothing(stack):
    cp_id = "E2E-CMD-REJECTED"

    async def scenario() -> dict[str, Any]:
        async with charger(stack.port, cp_id) as cp:
            cp.answers["ChangeAvailability"] = {"status": "Rejected"}
            await in_thread(_connected, cp_id)
            return await in_thread(
                commands.change_availability, cp_id, connector_id=1, type="Inoperative", wait=WAIT
            )

    assert asyncio.run(scenario()) == {"status": "Rejected"}
    assert not Connector.objects.filter(charge_point_id=cp_id, availability="Inoperative").exists()


def test_a_callerror_raises_call_error_with_its_code(stack):
    cp_id = "E2E-CMD-CALLERROR"

    async def scenario() -> commands.CallError:
        async with charger(stack.port, cp_id) as cp:
            cp.errors["Reset"] = ("NotSupported", "no resets today")
            await in_thread(_connected, cp_id)
            with pytest.raises(commands.CallError) as raised:
                await in_thread(commands.reset, cp_id, wait=WAIT)
            return raised.value

    error = asyncio.run(scenario())
    assert (error.code, error.description, error.details) == (
        "NotSupported",
        "no resets today",
        {"by": "sim"},
    )
    assert error.call.status == "call_error"


def test_a_charger_that_never_answers_times_out(stack, settings):
    settings.OCPP_CALL_TIMEOUT = 2  # the call's timeout is fixed when it is recorded
    cp_id = "E2E-CMD-TIMEOUT"

    async def scenario() -> tuple[commands.CallTimeout, float]:
        async with charger(stack.port, cp_id) as cp:
            cp.silent.add("ClearCache")
            await in_thread(_connected, cp_id)
            began = time.monotonic()
            with pytest.raises(commands.CallTimeout) as raised:
                await in_thread(commands.clear_cache, cp_id, wait=WAIT)
            assert len(cp.received) == 1
            return raised.value, time.monotonic() - began

    error, elapsed = asyncio.run(scenario())
    assert error.call.status == "timeout" and error.call.timeout == 2
    assert 1.9 < elapsed < 6


def test_commands_to_an_offline_charger(stack):
    cp_id = "E2E-CMD-OFFLINE"

    async def gone() -> None:
        async with charger(stack.port, cp_id):
            await in_thread(_connected, cp_id)
        await in_thread(_connected, cp_id, False)

    asyncio.run(gone())
    with pytest.raises(commands.ChargePointOffline) as offline:
        commands.reset(cp_id, wait=WAIT)
    assert offline.value.call.status == "offline"
    with pytest.raises(commands.ChargePointOffline):
        commands.reset("E2E-CMD-NEVER-SEEN", wait=WAIT)


def test_a_charger_we_think_connected_but_no_gateway_holds_ends_offline(stack):
    # E.g. its gateway died without reporting the disconnect: the CALL comes back unroutable.
    ChargePoint.objects.create(id="E2E-CMD-GHOST", connected=True, connection_id="dead")
    with pytest.raises(commands.ChargePointOffline) as offline:
        commands.clear_cache("E2E-CMD-GHOST", wait=WAIT)
    call = offline.value.call
    assert call.status == "offline" and "not connected to any gateway" in call.error_description
    assert '"status": "offline"' in TaskResult.objects.get(task_id=call.task_id).result


def test_two_commands_at_once_reach_the_charger_one_after_the_other(stack):
    cp_id = "E2E-CMD-TWO"

    async def scenario() -> list[Any]:
        async with charger(stack.port, cp_id) as cp:
            cp.delays["GetConfiguration"] = 1.0
            cp.delays["GetLocalListVersion"] = 0.2
            await in_thread(_connected, cp_id)
            answers = await asyncio.gather(
                in_thread(commands.get_configuration, cp_id, wait=WAIT),
                in_thread(commands.get_local_list_version, cp_id, wait=WAIT),
            )
            first, second = cp.received
            # OCPP-J 1.6 §4.1.1: the second CALL is sent only after the first was answered.
            assert first.answered_at is not None and second.at >= first.answered_at
            return answers

    configuration, version = asyncio.run(scenario())
    assert configuration == DEFAULT_ANSWERS["GetConfiguration"]
    assert version == {"listVersion": 7}


def test_a_charger_call_while_our_call_is_outstanding_is_answered(stack):
    cp_id = "E2E-CMD-CROSS"

    async def scenario() -> tuple[Any, Any, float]:
        async with charger(stack.port, cp_id) as cp:
            cp.delays["GetConfiguration"] = 2.0
            await in_thread(_connected, cp_id)
            command = asyncio.ensure_future(in_thread(commands.get_configuration, cp_id, wait=WAIT))
            await asyncio.wait_for(cp.call_received.wait(), WAIT)
            began = time.monotonic()
            heartbeat = await cp.call(ocpp_call.Heartbeat())
            took = time.monotonic() - began
            assert cp.received[0].answered_at is None  # ours was still outstanding
            return heartbeat, await command, took

    heartbeat, answer, took = asyncio.run(scenario())
    assert heartbeat.current_time and took < 1.5
    assert answer == DEFAULT_ANSWERS["GetConfiguration"]


WEB_PROCESS = """
import json, sys
import levity_backend.wsgi  # as gunicorn loads it
from charging import commands
loaded = sorted(m for m in ("tasks.calls", "levity_backend.urls") if m in sys.modules)
answer = commands.call(sys.argv[1], "ClearCache", {}, wait=20)
print(json.dumps({"loaded_before": loaded, "answer": answer,
                  "tasks_imported": "tasks.calls" in sys.modules}))
"""


def test_a_web_process_sends_a_command_by_the_tasks_name(stack):
    """The web entry point loads its URLconf up front, and a command it sends goes to the
    broker by task name, without importing the worker's task modules (~0.2 s on a first
    request)."""
    cp_id = "E2E-CMD-WEB"

    async def scenario() -> dict[str, Any]:
        async with charger(stack.port, cp_id) as cp:
            await in_thread(_connected, cp_id)
            web = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WEB_PROCESS,
                cp_id,
                env={**stack.env, "DJANGO_SETTINGS_MODULE": "levity_backend.settings"},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(web.communicate(), timeout=60)
            assert web.returncode == 0, err.decode()[-2000:]
            (received,) = cp.received
            assert received.action == "ClearCache"
            return json.loads(out.decode().strip().splitlines()[-1])

    seen = asyncio.run(scenario())
    assert seen == {
        "loaded_before": ["levity_backend.urls"],
        "answer": {"status": "Accepted"},
        "tasks_imported": False,
    }
    assert OutboundCall.objects.get(charge_point_id=cp_id).status == "answered"
