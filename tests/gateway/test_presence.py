"""The gateway's presence lease in the real Redis: taken before the first charger, renewed
while it runs, given up on a clean stop; a Redis that is away never stops the gateway."""

from __future__ import annotations

import asyncio
import json
import os
import secrets

import redis

from charging.protocol import envelope as env

from .helpers import FakeBus, http_get, open_client, run, running_gateway

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def test_lease_lives_while_the_gateway_runs_and_goes_with_a_clean_stop() -> None:
    gateway_id = f"test-presence-{secrets.token_hex(3)}"
    key = env.gateway_lease_key(gateway_id)
    client = redis.Redis.from_url(REDIS_URL)

    async def scenario() -> None:
        options = {"gateway_id": gateway_id, "redis_url": REDIS_URL, "presence_ttl": 0.6}
        async with running_gateway(FakeBus(auto_reply=True), **options) as (gateway, url):
            assert 0 < client.pttl(key) <= 600  # taken at start, with the TTL
            async with await open_client(url, "CP-P"):
                renewals = gateway._presence.renewals
                # Renewed every TTL / 3: alive well past one TTL.
                await asyncio.sleep(1.5)
                assert gateway._presence.renewals >= renewals + 3
                assert client.exists(key)
                assert json.loads(client.get(key)) == {
                    "reply_to": "levity.gw.test-gw",
                    "connections": 1,
                }
                _, _, body = await http_get(url, "/health")
                assert json.loads(body)["presence"] == "ok"
        assert not client.exists(key)

    run(scenario())


def test_gateway_serves_without_redis_and_reports_the_lease_failing() -> None:
    async def scenario() -> None:
        options = {"redis_url": "redis://127.0.0.1:1/0", "presence_ttl": 0.6}
        async with (
            running_gateway(FakeBus(auto_reply=True), **options) as (_, url),
            await open_client(url, "CP-Q"),
        ):
            _, _, body = await http_get(url, "/health")
            health = json.loads(body)
            assert (health["connections"], health["presence"]) == (1, "failing")

    run(scenario())
