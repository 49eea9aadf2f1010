"""Gateway options: defaults, environment, command line, AMQP URL retry options."""

import re

import pytest

from charging.protocol.envelope import DEFAULT_AMQP_URL, amqp_retry_options
from gateway.cli import build_parser, config_from_args
from gateway.config import GatewayConfig


def test_defaults() -> None:
    config = GatewayConfig()
    assert (config.host, config.port) == ("0.0.0.0", 9000)
    assert config.amqp_url == DEFAULT_AMQP_URL
    assert config.ping_interval == 60 and config.ping_timeout == 20
    assert config.reply_timeout == 30.0 and config.max_frame_size == 65536
    assert re.fullmatch(r".+-\d+-[0-9a-f]{4}", config.gateway_id)
    assert GatewayConfig().gateway_id != config.gateway_id


def test_from_env() -> None:
    config = GatewayConfig.from_env(
        {
            "LEVITY_GATEWAY_HOST": "127.0.0.1",
            "LEVITY_GATEWAY_PORT": "9100",
            "LEVITY_GATEWAY_ID": "gw-a",
            "LEVITY_GATEWAY_PING_INTERVAL": "0",
            "LEVITY_GATEWAY_REPLY_TIMEOUT": "2.5",
            "LEVITY_GATEWAY_MAX_FRAME_SIZE": "1024",
            "AMQP_URL": "amqp://u:p@rabbit:5672/%2F",
        }
    )
    assert (config.host, config.port, config.gateway_id) == ("127.0.0.1", 9100, "gw-a")
    assert config.ping_interval == 0 and config.keepalive_interval is None
    assert config.reply_timeout == 2.5 and config.max_frame_size == 1024
    assert config.amqp_url == "amqp://u:p@rabbit:5672/%2F"
    assert GatewayConfig.from_env({}).amqp_url == DEFAULT_AMQP_URL


def test_presence_ttl_follows_the_workers_setting_unless_set_for_the_gateway() -> None:
    assert GatewayConfig.from_env({}).presence_ttl == 30
    shared = {"OCPP_GATEWAY_PRESENCE_TTL": "5", "REDIS_URL": "redis://r:6379/2"}
    config = GatewayConfig.from_env(shared)
    assert (config.presence_ttl, config.redis_url) == (5, "redis://r:6379/2")
    own = GatewayConfig.from_env({**shared, "LEVITY_GATEWAY_PRESENCE_TTL": "0"})
    assert own.presence_ttl == 0


def test_from_env_names_a_bad_value() -> None:
    with pytest.raises(ValueError, match="LEVITY_GATEWAY_PORT"):
        GatewayConfig.from_env({"LEVITY_GATEWAY_PORT": "ninety"})


def test_command_line_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVITY_GATEWAY_PORT", "9100")
    monkeypatch.setenv("LEVITY_GATEWAY_REPLY_TIMEOUT", "7")
    args = build_parser().parse_args(
        ["--port", "0", "--ping-interval", "0", "--gateway-id", "gw-b", "--log-level", "debug"]
    )
    config = config_from_args(args)
    assert (config.port, config.gateway_id, config.reply_timeout) == (0, "gw-b", 7.0)
    assert config.keepalive_interval is None
    assert args.log_level == "debug"


def test_pika_retry_options_are_stripped_from_the_amqp_url() -> None:
    url, attempts, delay = amqp_retry_options(DEFAULT_AMQP_URL)
    assert url == "amqp://guest:guest@localhost:5672/%2F"
    assert (attempts, delay) == (20, 1.0)
    url, attempts, _ = amqp_retry_options("amqp://localhost/?heartbeat=10")
    assert (url, attempts) == ("amqp://localhost/?heartbeat=10", 1)


def test_compression_is_deflate_by_default_off_on_request_and_nothing_else() -> None:
    assert GatewayConfig().compression == "deflate"
    assert GatewayConfig.from_env({"LEVITY_GATEWAY_COMPRESSION": "off"}).compression == "off"
    with pytest.raises(ValueError, match="compression 'gzip'"):
        GatewayConfig.from_env({"LEVITY_GATEWAY_COMPRESSION": "gzip"})
