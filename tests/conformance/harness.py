"""The OCTT's two roles in the central-system cases (OCTT for OCPP 1.6, section 3): the charge
point (the tool) and the operator (the CPO, through our HTTP API), against the shared gateway +
worker stack of tests/e2e."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from django.utils.module_loading import import_string
from ocpp.v16 import call, call_result
from rest_framework.test import APIClient

from charging import conf
from charging.middleware import AutoRemoteStartMiddleware
from charging.middleware.pipeline import DEFAULT_MIDDLEWARE
from charging.models import PENDING_CALL_STATUSES, OutboundCall
from charging.protocol import MessageType, action_name
from charging.services.charging_profiles import PROFILE_FIELDS
from levity.devstack import DEFAULT_ANSWERS, Received, SimulatedChargePoint, charger
from tests.e2e.harness import in_thread

# The tool's test data (OCTT "Configured ..." values).
VALID_ID_TAG = "OCTT-VALID"  # <Configured Valid IdTag>
CONNECTOR = 1  # <Configured ConnectorId>
NUMBER_OF_CONNECTORS = 2  # <Configured NumberOfConnectors>
VENDOR, MODEL = "OCTT", "Simulator"  # <Configured Vendor Name>, <Configured Model>
WAIT = 20.0  # seconds the operator waits for a charger's answer (?wait=)
# Smart charging (TC_056, TC_057, TC_059, TC_066, TC_067).
STACK_LEVEL = 1  # <Configured stackLevel>
CHARGING_RATE_UNIT = "A"  # <Configured chargingRateUnit>: limits of 6.0 A (6000.0 in W)
SCHEDULE_DURATION = 3600  # <Configured duration>, <Configured Charging Schedule Duration>
START_PERIOD = 0  # <Configured startPeriod>
NUMBER_PHASES = 3  # <Configured numberPhases>
AUTO_ID_TAG = conf.get("OCPP_AUTO_REMOTE_START_ID_TAG")


def ocpp_time(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def parse_ocpp_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def auto_remote_start_configured() -> bool:
    """Whether the worker's StatusNotification chain may start a transaction on Preparing (the
    default pipeline does). The test process runs the same settings module as the workers."""
    table = conf.get("OCPP_MIDDLEWARE") or DEFAULT_MIDDLEWARE
    for (action, message_type), chain in table.items():
        if action_name(action) == "StatusNotification" and message_type == MessageType.call:
            classes = [import_string(e) if isinstance(e, str) else e for e in chain]
            return any(issubclass(c, AutoRemoteStartMiddleware) for c in classes)
    return False


def _auto_remote_start_pending(charge_point_id: str) -> bool:
    """Whether the worker decided an automatic RemoteStartTransaction not sent or answered yet."""
    return OutboundCall.objects.filter(
        charge_point_id=charge_point_id,
        requested_by="AutoRemoteStartMiddleware",
        status__in=PENDING_CALL_STATUSES,
    ).exists()


class Operator:
    """The CPO: every step the Central System takes on request goes through the HTTP API, so the
    real command path runs (API → `levity.send_call` on the worker → RabbitMQ → gateway)."""

    def __init__(self, client: APIClient) -> None:
        self.client = client

    def _post(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data, format="json")

    async def post(self, path: str, data: dict[str, Any]) -> Any:
        return await in_thread(self._post, path, data)

    async def call(
        self, cp_id: str, action: str, payload: dict[str, Any], *, http: int = 200
    ) -> dict[str, Any]:
        """Send `action` and wait for the charger's answer; the recorded call (its `response`)."""
        response = await self.post(
            f"/api/v1/charge-points/{cp_id}/calls/{action}/?wait={WAIT:g}", payload
        )
        assert response.status_code == http, (response.status_code, response.data)
        return response.data

    async def command(
        self,
        cp: Station,
        action: str,
        payload: dict[str, Any],
        *,
        answer: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One request/answer exchange of the case: the operator sends `action` with `payload`,
        the charge point checks it received exactly that and answers `answer` (default: the
        accepting charger's). Returns the charger's answer as the API reported it."""
        if answer is not None:
            cp.answer(action, answer)
        outcome = await self.call(cp.id, action, payload)
        assert (await cp.expect(action)).payload == payload
        assert outcome["status"] == "answered", outcome
        expected = answer if answer is not None else DEFAULT_ANSWERS[action]
        assert outcome["response"] == expected
        return outcome["response"]

    async def reserve(
        self,
        cp: Station,
        *,
        connector_id: int = CONNECTOR,
        expiry: datetime,
        id_tag: str = VALID_ID_TAG,
        answer: str = "Accepted",
        **fields: Any,
    ) -> int:
        """ReserveNow as an operator makes one (no reservationId: the Central System gives its
        reservation's); the charge point checks what it got and answers `answer`. The
        reservationId sent."""
        cp.answer("ReserveNow", {"status": answer})
        payload = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "expiryDate": ocpp_time(expiry),
            **fields,
        }
        outcome = await self.call(cp.id, "ReserveNow", payload)
        received = await cp.expect("ReserveNow")
        sent = dict(received.payload)
        reservation_id = sent.pop("reservationId")
        assert isinstance(reservation_id, int)
        assert sent == payload
        assert outcome["response"] == {"status": answer}
        return reservation_id

    async def with_profile(
        self, cp: Station, action: str, payload: dict[str, Any], *, answer: str = "Accepted"
    ) -> dict[str, Any]:
        """SetChargingProfile, or RemoteStartTransaction with a chargingProfile, as an operator
        sends one: without chargingProfileId, so the Central System gives the charge point's
        next. The charge point checks it got `payload` plus that id, and answers `answer`.
        The payload it received."""
        cp.answer(action, {"status": answer})
        outcome = await self.call(cp.id, action, payload)
        received = await cp.expect(action)
        field = PROFILE_FIELDS[action]
        profile = dict(received.payload[field])
        assert isinstance(profile.pop("chargingProfileId"), int)
        assert {**received.payload, field: profile} == payload
        assert outcome["response"] == {"status": answer}
        return received.payload

    async def sync_local_list(self, cp: Station, *, full: bool, answer: str) -> dict[str, Any]:
        """The operator's "sync local list": the SendLocalList.req the charge point got (it
        answers `answer`) and what the API reported."""
        cp.answer("SendLocalList", {"status": answer})
        response = await self.post(f"/api/v1/charge-points/{cp.id}/local-list/", {"full": full})
        assert response.status_code == 200, response.data
        received = await cp.expect("SendLocalList")
        assert response.data["response"] == {"status": answer}
        return {"request": received.payload, "sync": response.data}

    def authorization_key(self, cp_id: str, **data: Any) -> Any:
        """POST /authorization-key/ (`key`, `rotate`): the charge point's HTTP Basic password."""
        return self._post(f"/api/v1/charge-points/{cp_id}/authorization-key/", data)

    def id_tag(self, id_tag: str, **fields: Any) -> dict[str, Any]:
        """Register an id tag (status, expiry_date, parent) as an operator would."""
        response = self._post("/api/v1/id-tags/", {"id_tag": id_tag, **fields})
        assert response.status_code == 201, response.data
        return response.data


class Station:
    """The tool's charge point: sends the case's CALLs and checks every CALL the Central System
    sends it. Each CALL it receives must be claimed by the case (`expect`); one left unclaimed at
    the end fails the case, as the OCTT reports a message it did not expect."""

    def __init__(self, cp: SimulatedChargePoint, connect: dict[str, Any]) -> None:
        self.cp = cp
        self.id = cp.id
        self._connect = connect  # station() arguments, to connect again
        self._claimed: set[int] = set()
        answer = cp._result

        def _refusing_auto_remote_start(action: str, kwargs: dict[str, Any]) -> Any:
            if action == "RemoteStartTransaction" and kwargs.get("id_tag") == AUTO_ID_TAG:
                return call_result.RemoteStartTransaction(status="Rejected")
            return answer(action, kwargs)

        cp._result = _refusing_auto_remote_start  # type: ignore[method-assign]
        self._answered: set[str] = set()  # unique ids of the CALLs the charge point answered
        self._answer_sent = asyncio.Event()
        send = cp._send

        async def _sending(message: str) -> None:
            await send(message)
            frame = json.loads(message)
            if frame[0] in (3, 4):
                self._answered.add(frame[1])
                self._answer_sent.set()

        cp._send = _sending  # type: ignore[method-assign]

    # --- what the Central System sends ----------------------------------------------------

    async def expect(self, action: str, *, within: float = 10) -> Received:
        """The next unclaimed CALL `action` from the Central System (waits for it)."""
        try:
            async with asyncio.timeout(within):
                while True:
                    self.cp.call_received.clear()
                    for index, received in enumerate(self.cp.received):
                        if index not in self._claimed and received.action == action:
                            self._claimed.add(index)
                            return received
                    await self.cp.call_received.wait()
        except TimeoutError:
            raise AssertionError(f"{self.id}: no {action} from the Central System") from None

    async def answered(self, received: Received, *, within: float = 10) -> None:
        """Until the charge point's answer to `received` has gone out."""
        async with asyncio.timeout(within):
            while received.unique_id not in self._answered:
                self._answer_sent.clear()
                await self._answer_sent.wait()

    def unexpected(self) -> list[Received]:
        return [r for i, r in enumerate(self.cp.received) if i not in self._claimed]

    def answer(self, action: str, payload: dict[str, Any]) -> None:
        """How the charge point answers `action` from now on (camelCase, as on the wire)."""
        self.cp.answers[action] = payload

    # --- what the charge point sends ------------------------------------------------------

    async def send(self, request: Any) -> Any:
        return await self.cp.call(request)

    async def boot(self, **fields: Any) -> Any:
        return await self.send(
            call.BootNotification(charge_point_vendor=VENDOR, charge_point_model=MODEL, **fields)
        )

    async def status(self, connector_id: int, status: str, error_code: str = "NoError") -> Any:
        answer = await self.send(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=ocpp_time(),
            )
        )
        assert answer is not None  # StatusNotification.conf has no fields
        return answer

    async def statuses(self, status: str = "Available", *, skip: tuple[int, ...] = ()) -> None:
        """A StatusNotification per connector and connectorId 0."""
        for connector_id in range(NUMBER_OF_CONNECTORS + 1):
            if connector_id not in skip:
                await self.status(connector_id, status)

    async def authorize(self, id_tag: str = VALID_ID_TAG) -> dict[str, Any]:
        return (await self.send(call.Authorize(id_tag=id_tag))).id_tag_info

    async def start(
        self,
        connector_id: int = CONNECTOR,
        id_tag: str = VALID_ID_TAG,
        *,
        meter_start: int = 1000,
        timestamp: str | None = None,
        reservation_id: int | None = None,
    ) -> Any:
        return await self.send(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=timestamp or ocpp_time(),
                reservation_id=reservation_id,
            )
        )

    async def stop(
        self,
        transaction_id: int,
        reason: str,
        *,
        meter_stop: int = 2000,
        id_tag: str | None = None,
        timestamp: str | None = None,
    ) -> Any:
        fields: dict[str, Any] = {"id_tag": id_tag} if id_tag else {}
        return await self.send(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=timestamp or ocpp_time(),
                transaction_id=transaction_id,
                reason=reason,
                **fields,
            )
        )

    # --- the connection -------------------------------------------------------------------

    async def disconnect(self) -> None:
        """[Remove connectivity]: the charge point closes its websocket."""
        await self.cp._connection.close()

    def reconnect(self, **changes: Any) -> contextlib.AbstractAsyncContextManager[Station]:
        """[Restore connectivity]: a new connection of the same charge point, no boot;
        `changes` to `station()`'s arguments (a new `password`)."""
        return station(**{**self._connect, **changes})

    @contextlib.asynccontextmanager
    async def reboot(self, **boot_fields: Any) -> AsyncIterator[Station]:
        """The charge point restarts (reset, power cycle, new firmware): it closes its
        connection, connects again and boots, Accepted; the case sends the StatusNotifications."""
        await self.disconnect()
        async with self.reconnect() as again:
            assert (await again.boot(**boot_fields)).status == "Accepted"
            yield again

    # --- the document's reusable states (section 3.22) ------------------------------------

    async def booted(self) -> Any:
        """Reusable state Booted: BootNotification Accepted, every connector Available."""
        boot = await self.boot()
        assert boot.status == "Accepted"
        await self.statuses("Available")
        return boot

    async def authorized(self, id_tag: str = VALID_ID_TAG) -> None:
        """Reusable state Authorized."""
        assert (await self.authorize(id_tag))["status"] == "Accepted"

    async def plug_in(self, connector_id: int = CONNECTOR) -> None:
        """StatusNotification Preparing. With AutoRemoteStartMiddleware in the pipeline (the
        default) our Central System may answer it with RemoteStartTransaction for
        OCPP_AUTO_REMOTE_START_ID_TAG (not after an accepted Authorize, nor with another
        RemoteStart pending or accepted), which no OCTT case expects: when the worker decided
        one, it is claimed and checked here, and refused (`_refusing_auto_remote_start`), so
        that the case goes on as the document says (docs/conformance.md, "Automatic remote
        start")."""
        await self.status(connector_id, "Preparing")
        if auto_remote_start_configured() and await in_thread(_auto_remote_start_pending, self.id):
            automatic = await self.expect("RemoteStartTransaction")
            assert automatic.payload == {"connectorId": connector_id, "idTag": AUTO_ID_TAG}

    async def start_charging(
        self,
        connector_id: int = CONNECTOR,
        id_tag: str = VALID_ID_TAG,
        *,
        reservation_id: int | None = None,
    ) -> int:
        """StartTransaction, Accepted, then StatusNotification Charging: the transactionId the
        Central System gave."""
        start = await self.start(connector_id, id_tag, reservation_id=reservation_id)
        assert start.id_tag_info["status"] == "Accepted"
        assert isinstance(start.transaction_id, int)
        await self.status(connector_id, "Charging")
        return start.transaction_id

    async def charging(
        self,
        connector_id: int = CONNECTOR,
        id_tag: str = VALID_ID_TAG,
        *,
        reservation_id: int | None = None,
    ) -> int:
        """Reusable state Charging, after Authorized: Preparing, StartTransaction Accepted,
        Charging (on a reservation: with its reservationId). The transactionId given."""
        await self.authorized(id_tag)
        await self.plug_in(connector_id)
        return await self.start_charging(connector_id, id_tag, reservation_id=reservation_id)

    async def end_session(
        self,
        transaction_id: int,
        reason: str,
        *,
        finishing_first: bool = False,
        connector_id: int = CONNECTOR,
    ) -> Any:
        """StopTransaction with `reason` and StatusNotification Finishing (in either order, OCTT
        §1.2), then [EV driver unplugs the cable]: Available. The StopTransaction.conf."""
        if finishing_first:
            await self.status(connector_id, "Finishing")
        stop = await self.stop(transaction_id, reason)
        if not finishing_first:
            await self.status(connector_id, "Finishing")
        await self.status(connector_id, "Available")
        return stop


@contextlib.asynccontextmanager
async def station(
    port: int,
    cp_id: str,
    *,
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Station]:
    """A connected charge point; on a clean exit, every CALL it received was expected."""
    connect = {"port": port, "cp_id": cp_id, "password": password, "ssl_context": ssl_context}
    async with charger(port, cp_id, password=password, ssl=ssl_context) as cp:
        st = Station(cp, connect)
        yield st
        assert not st.unexpected(), f"CALLs no step expects: {st.unexpected()}"


async def reset_case(cp: Station, operator: Operator, reset_type: str) -> None:
    """TC_013 / TC_014: the operator's Reset (step 1), Accepted (step 2); the charge point
    reboots as soon as it answered, as the tool does: BootNotification Accepted (steps 3-4),
    then every connector Available (step 5). The operator sees the charger's answer."""
    cp.answer("Reset", {"status": "Accepted"})
    reset = asyncio.ensure_future(operator.call(cp.id, "Reset", {"type": reset_type}))
    received = await cp.expect("Reset")
    assert received.payload == {"type": reset_type}
    await cp.answered(received)
    async with cp.reboot() as again:
        await again.statuses("Available")
    outcome = await reset
    assert (outcome["status"], outcome["response"]) == ("answered", {"status": "Accepted"})


def assert_no_session(cp_id: str, connector_id: int = CONNECTOR) -> None:
    """The connector went back to Available without a transaction."""
    from charging.models import Connector, Transaction

    assert not Transaction.objects.filter(charge_point_id=cp_id).exists()
    connector = Connector.objects.get(charge_point_id=cp_id, connector_id=connector_id)
    assert connector.status == "Available"


# The cipher suites a Central System must support over TLS 1.2, as OCTT TC_086/TC_087 validate
# them (IANA name → OpenSSL name).
REQUIRED_CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
}


def tls12_suites_refused(port: int, client: Callable[[], ssl.SSLContext]) -> list[str]:
    """The required cipher suites a TLS 1.2 handshake with the gateway on `port` fails with,
    offering one suite at a time (`client()` is a fresh charge point context each time)."""
    refused = []
    for iana, openssl in REQUIRED_CIPHER_SUITES.items():
        context = client()
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(openssl)
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                assert tls.version() == "TLSv1.2" and tls.cipher()[0] == openssl
        except ssl.SSLError:
            refused.append(iana)
    return refused


def tls_version(cp: Station) -> str:
    """The TLS version of the charge point's connection."""
    return cp.cp._connection.transport.get_extra_info("ssl_object").version()
