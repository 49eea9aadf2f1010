"""The handshake check (`--authorize`): credentials go to the workers as a `handshake` event and
the gateway refuses with their status before upgrading; the header parsing on its own."""

from __future__ import annotations

import asyncio
import base64

import pytest
import websockets
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus

from charging.protocol import envelope as env
from gateway import auth
from gateway.cli import build_parser, config_from_args
from gateway.config import GatewayConfig

from .helpers import OCPP16, FakeBus, eventually, run, running_gateway


def basic(username: str, password: str | bytes) -> str:
    raw = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(username.encode() + b":" + raw).decode()


class HandshakeBus(FakeBus):
    """Answers `handshake` events with `decision(event)`; any other event like FakeBus."""

    def __init__(self, decision, **kwargs) -> None:
        super().__init__(**kwargs)
        self.decision = decision

    async def publish(self, envelope: env.Inbound) -> None:
        if envelope["kind"] != "handshake":
            return await super().publish(envelope)
        if self.fail_publish:
            raise ConnectionError("broker unreachable")
        self.events.append(envelope)
        answer = self.decision(envelope)
        if answer is not None:
            await self._on_message(dict(answer))


def accept_key(key: str):
    def decide(event: env.Inbound) -> env.Reply:
        if event["cp"] == "UNKNOWN":
            return env.handshake_reply(
                event, accept=False, status=404, reason="Unknown charge point"
            )
        if event.get("password") == key:
            return env.handshake_reply(event, accept=True)
        return env.handshake_reply(event, accept=False, status=401, reason="Invalid credentials")

    return decide


async def refused(url: str, **kwargs) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(url, subprotocols=OCPP16, open_timeout=5, **kwargs):
            pass
    return caught.value


# --- parsing --------------------------------------------------------------------------------


def test_no_authorization_header_means_no_credentials():
    assert auth.basic_credentials(Headers(), charge_point_id="CP-1") is None


def test_basic_credentials_are_read():
    headers = Headers({"Authorization": basic("CP-1", "secret:with:colons")})
    assert auth.basic_credentials(headers, charge_point_id="CP-1") == auth.Credentials(
        "CP-1", "secret:with:colons"
    )


@pytest.mark.parametrize(
    "header",
    ["Bearer abc", "Basic !!!", "Basic", basic("CP-2", "secret-secret-12")],
    ids=["other-scheme", "not-base64", "empty", "other-username"],
)
def test_bad_or_foreign_credentials_are_refused_401(header):
    with pytest.raises(auth.Refusal) as caught:
        auth.basic_credentials(Headers({"Authorization": header}), charge_point_id="CP-1")
    assert caught.value.status == 401
    assert caught.value.asks_for_credentials


def test_two_authorization_headers_are_refused():
    headers = Headers()
    headers["Authorization"] = basic("CP-1", "a")
    headers["Authorization"] = basic("CP-1", "b")
    with pytest.raises(auth.Refusal):
        auth.basic_credentials(headers, charge_point_id="CP-1")


def test_binary_password_survives_as_surrogate_escapes():
    raw = bytes.fromhex("4f43415fff00fe")
    credentials = auth.basic_credentials(
        Headers({"Authorization": basic("CP-1", raw)}), charge_point_id="CP-1"
    )
    assert credentials is not None
    assert credentials.password.encode("utf-8", "surrogateescape") == raw


@pytest.mark.parametrize(
    ("dn", "cn"),
    [
        ("CN=CP-1,O=Acme,C=DE", "CP-1"),
        ("O=Acme,CN=CP-1", "CP-1"),
        ("/C=DE/O=Acme/CN=CP-1", "CP-1"),
        (r"CN=CP\,1,O=Acme", "CP,1"),
        ("O=Acme", None),
        ("", None),
    ],
)
def test_common_name_of_a_forwarded_subject(dn, cn):
    assert auth.common_name(dn) == cn


def test_security_options_from_the_command_line_and_environment(monkeypatch):
    monkeypatch.setenv("LEVITY_GATEWAY_AUTHORIZE", "true")
    monkeypatch.setenv("LEVITY_GATEWAY_TRUST_PROXY_CLIENT_CERT_HEADER", "X-Client-DN")
    config = config_from_args(build_parser().parse_args(["--tls-cert", "c.pem"]))
    assert config.authorize is True
    assert config.tls_cert == "c.pem"
    assert config.scheme == "wss"
    assert config.trust_proxy_client_cert_header == "X-Client-DN"
    off = config_from_args(build_parser().parse_args(["--no-authorize"]))
    assert off.authorize is False
    with pytest.raises(ValueError):
        GatewayConfig.from_env({"LEVITY_GATEWAY_AUTHORIZE": "maybe"})
    with pytest.raises(ValueError):
        GatewayConfig(tls_key="k.pem")


# --- a running gateway ------------------------------------------------------------------------


def test_without_authorize_no_handshake_event_is_sent():
    async def body():
        bus = FakeBus(auto_reply=True)
        async with (
            running_gateway(bus) as (_, url),
            websockets.connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16),
        ):
            assert (await bus.next())["kind"] == "connect"
        assert all(event["kind"] != "handshake" for event in bus.events)

    run(body())


def test_right_password_is_accepted_and_only_then_connect_is_forwarded():
    async def body():
        bus = HandshakeBus(accept_key("secret-secret-12"), auto_reply=True)
        async with running_gateway(bus, authorize=True) as (gateway, url):
            headers = {"Authorization": basic("CP-1", "secret-secret-12")}
            async with websockets.connect(
                f"{url}/ocpp/CP-1", subprotocols=OCPP16, additional_headers=headers
            ) as ws:
                assert ws.subprotocol == "ocpp1.6"
                assert (await bus.next())["kind"] == "connect"
            handshake = bus.events[0]
            assert handshake["kind"] == "handshake"
            assert handshake["conn"] == ""
            assert handshake["username"] == "CP-1"
            assert handshake["password"] == "secret-secret-12"
            assert handshake["remote"].startswith("127.0.0.1:")
            assert len(gateway.replies) == 0

    run(body())


def test_missing_or_wrong_password_is_refused_401_with_a_challenge():
    async def body():
        bus = HandshakeBus(accept_key("secret-secret-12"), auto_reply=True)
        async with running_gateway(bus, authorize=True) as (gateway, url):
            missing = await refused(f"{url}/ocpp/CP-1")
            wrong = await refused(
                f"{url}/ocpp/CP-1",
                additional_headers={"Authorization": basic("CP-1", "guess-guess-1234")},
            )
            for error in (missing, wrong):
                assert error.response.status_code == 401
                assert error.response.headers["WWW-Authenticate"].startswith('Basic realm="ocpp"')
            assert wrong.response.body == b"Invalid credentials\n"
            assert [e["kind"] for e in bus.events] == ["handshake", "handshake"]
            assert bus.events[0]["password"] is None
            refusals = gateway.metrics.refusals.labels("unauthorized")._value.get()
            assert refusals == 2

    run(body())


def test_a_username_other_than_the_id_is_refused_without_asking_the_workers():
    async def body():
        bus = HandshakeBus(accept_key("secret-secret-12"))
        async with running_gateway(bus, authorize=True) as (_, url):
            error = await refused(
                f"{url}/ocpp/CP-1",
                additional_headers={"Authorization": basic("CP-2", "secret-secret-12")},
            )
            assert error.response.status_code == 401
            assert bus.events == []

    run(body())


def test_unknown_charge_point_is_refused_404_without_a_challenge():
    async def body():
        bus = HandshakeBus(accept_key("secret-secret-12"))
        async with running_gateway(bus, authorize=True) as (gateway, url):
            error = await refused(f"{url}/ocpp/UNKNOWN")
            assert error.response.status_code == 404
            assert "WWW-Authenticate" not in error.response.headers
            assert gateway.metrics.refusals.labels("unknown_charge_point")._value.get() == 1

    run(body())


@pytest.mark.parametrize("answer", ["none", "undecided", "publish_fails"])
def test_no_decision_in_time_is_refused_503(answer):
    async def body():
        def decide(event):
            return None if answer == "none" else env.reply(event)  # no `accept`

        bus = HandshakeBus(decide)
        bus.fail_publish = answer == "publish_fails"
        async with running_gateway(bus, authorize=True, reply_timeout=0.3) as (gateway, url):
            error = await refused(f"{url}/ocpp/CP-1")
            assert error.response.status_code == 503
            assert gateway.metrics.refusals.labels("unavailable")._value.get() == 1
            assert len(gateway.replies) == 0

    run(body())


def test_health_and_bad_paths_need_no_credentials():
    async def body():
        bus = HandshakeBus(accept_key("x"))
        async with running_gateway(bus, authorize=True) as (_, url):
            from .helpers import http_get

            status, _, _ = await http_get(url, "/health")
            assert status == 200
            error = await refused(f"{url}/a/b")
            assert error.response.status_code == 404
            assert bus.events == []

    run(body())


def test_forwarded_client_certificate_header_is_trusted_only_when_configured():
    async def body():
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus, trust_proxy_client_cert_header="X-Client-DN") as (_, url):
            ok = {"X-Client-DN": "CN=CP-1,O=Acme"}
            async with websockets.connect(
                f"{url}/ocpp/CP-1", subprotocols=OCPP16, additional_headers=ok
            ):
                assert (await bus.next())["kind"] == "connect"
            other = await refused(f"{url}/ocpp/CP-1", additional_headers={"X-Client-DN": "CN=X"})
            missing = await refused(f"{url}/ocpp/CP-1")
            assert other.response.status_code == missing.response.status_code == 403
        # Not configured: the same header changes nothing.
        async with running_gateway(FakeBus(auto_reply=True)) as (_, url):
            forged = {"X-Client-DN": "CN=X"}
            ws = await websockets.connect(
                f"{url}/ocpp/CP-1", subprotocols=OCPP16, additional_headers=forged
            )
            await ws.close()

    run(body())


def test_handshakes_of_many_chargers_are_checked_concurrently():
    async def body():
        gate = asyncio.Event()
        pending: list[env.Inbound] = []

        bus = HandshakeBus(lambda event: pending.append(event), auto_reply=True)
        async with running_gateway(bus, authorize=True) as (_, url):

            async def connect(cp: str):
                async with websockets.connect(
                    f"{url}/ocpp/{cp}",
                    subprotocols=OCPP16,
                    additional_headers={"Authorization": basic(cp, "secret-secret-12")},
                ):
                    await gate.wait()

            tasks = [asyncio.create_task(connect(f"CP-{n}")) for n in range(5)]
            await eventually(lambda: len(pending) == 5)
            for event in pending:  # all five waited at once; answer them now
                await bus._on_message(dict(env.handshake_reply(event, accept=True)))
            gate.set()
            await asyncio.gather(*tasks)

    run(body())
