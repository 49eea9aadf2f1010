"""HandshakeThrottle: refusals per address in a sliding window, and the workers' 429s per
(address, charge point)."""

from __future__ import annotations

from gateway.throttle import HandshakeThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_with_too_many_refusals_waits_until_the_oldest_is_a_window_old():
    clock = Clock()
    throttle = HandshakeThrottle(failures=3, window=60, clock=clock)
    for cp in ("A", "B"):
        throttle.failed("10.0.0.1")
        clock.now += 10
        assert throttle.retry_after("10.0.0.1", cp) == 0
    throttle.failed("10.0.0.1")
    # Any id from that address (an id scan), but not another address.
    assert throttle.retry_after("10.0.0.1", "C") == 40
    assert throttle.retry_after("10.0.0.2", "A") == 0
    clock.now += 40
    assert throttle.retry_after("10.0.0.1", "C") == 0


def test_a_workers_429_blocks_only_that_address_and_charge_point():
    clock = Clock()
    throttle = HandshakeThrottle(failures=20, window=60, clock=clock)
    throttle.block("10.0.0.1", "A", 30)
    assert throttle.retry_after("10.0.0.1", "A") == 30
    assert throttle.retry_after("10.0.0.1", "B") == 0
    assert throttle.retry_after("10.0.0.2", "A") == 0
    clock.now += 30
    assert throttle.retry_after("10.0.0.1", "A") == 0


def test_zero_failures_turns_the_address_limit_off():
    throttle = HandshakeThrottle(failures=0, window=60)
    for _ in range(100):
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1", "A") == 0
