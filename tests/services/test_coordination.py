"""A frozen private Redis costs each Redis user one short timeout, then its fallback."""

from __future__ import annotations

import time

import pytest

from charging import coordination, outcomes
from charging.services import presence
from tests.faults.harness import PrivateRedis


@pytest.fixture
def frozen(tmp_path, settings):
    redis = PrivateRedis(tmp_path).start()
    settings.REDIS_URL = redis.url
    settings.OCPP_REDIS_TIMEOUT = 0.3
    coordination._down_until = 0.0
    # Connected before the freeze, as a running worker's client is.
    assert outcomes.wait_for_wake("warm", 0.01) is False
    assert coordination.redis_client().ping()
    redis.freeze()
    yield redis
    redis.stop()
    coordination._down_until = 0.0


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("use", "fallback", "bound"),
    [
        (lambda: outcomes.wake("u1", "answered"), None, 0.3),
        (
            lambda: outcomes.wait_for_wake("u1", 5.0),
            None,
            1.0 + 0.3,
        ),  # MAX_BLOCK + OCPP_REDIS_TIMEOUT
        (lambda: presence.gateway_list_dead(gateway_ids=["gw-1"], ttl=30), set(), 0.3),
    ],
    ids=["wake", "wait_for_wake", "presence"],
)
def test_a_frozen_redis_costs_one_timeout_then_the_fallback(frozen, use, fallback, bound):
    began = time.monotonic()
    assert use() == fallback
    assert time.monotonic() - began < bound + 0.3
    # Left alone afterwards: the next use falls back at once.
    began = time.monotonic()
    assert use() == fallback
    assert time.monotonic() - began < 0.1
