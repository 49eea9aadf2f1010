"""Periodic housekeeping and webhook sending without a broker: the embedded process's stand-in for Celery beat and the `levity.webhooks` workers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("levity.periodic")


def run_every(every: float, job: Callable[[], object], *, stop: threading.Event) -> None:
    """Call `job` every `every` seconds (first after one interval) until `stop` is set. A failing
    run is logged and the next one still happens, as with a beat schedule."""
    while not stop.wait(every):
        try:
            job()
        except Exception:
            log.exception("periodic %s failed", getattr(job, "__name__", job))


def _on_own_connection(job: Callable[[], int], done: str) -> int:
    """Run `job` on a database connection of its own, closed after (not worth keeping open
    between runs, and none is left behind when the thread ends); log `done % count`."""
    from django.db import connections

    try:
        count = job()
    finally:
        connections.close_all()  # this thread's connections only
    if count:
        log.info(done, count)
    return count


def expire_stale_calls() -> int:
    """`services.expire_due`; how many stale calls ended."""
    from charging import services

    return _on_own_connection(lambda: services.expire_due().calls, "%d stale call(s) ended")


def prune_messages() -> int:
    """`services.message_prune` (one time-boxed run); how many messages went."""
    from charging import services

    return _on_own_connection(
        lambda: services.message_prune().messages, "%d message(s) past their retention deleted"
    )


def start_periodic(every: float, job: Callable[[], object], *, name: str) -> Callable[[], None]:
    """Run `job` every `every` seconds (0: never) on a daemon thread called `name`. Returns the
    function that stops it."""
    if every <= 0:
        return lambda: None
    stop = threading.Event()
    thread = threading.Thread(
        target=run_every, args=(every, job), kwargs={"stop": stop}, name=name, daemon=True
    )
    thread.start()

    def stop_job() -> None:
        stop.set()
        thread.join(timeout=5)

    return stop_job


def start_stale_call_expiry(every: float | None = None) -> Callable[[], None]:
    """Run `expire_stale_calls` every `every` seconds (default OCPP_EXPIRE_STALE_CALLS_EVERY; 0:
    never) on a daemon thread. Django must be set up. Returns the function that stops it."""
    from charging import conf

    every = float(conf.get("OCPP_EXPIRE_STALE_CALLS_EVERY") if every is None else every)
    return start_periodic(every, expire_stale_calls, name="levity-expire-stale-calls")


def start_message_pruning(every: float | None = None) -> Callable[[], None]:
    """Run `prune_messages` every `every` seconds (default OCPP_PRUNE_MESSAGES_EVERY; 0: never;
    nothing while OCPP_MESSAGE_RETENTION_DAYS is 0) on a daemon thread. Django must be set up.
    Returns the function that stops it."""
    from charging import conf

    every = float(conf.get("OCPP_PRUNE_MESSAGES_EVERY") if every is None else every)
    if int(conf.get("OCPP_MESSAGE_RETENTION_DAYS")) <= 0:
        every = 0
    return start_periodic(every, prune_messages, name="levity-prune-messages")


class WebhookSender:
    """The embedded process's stand-in for the `levity.webhooks` workers: one thread sends the
    deliveries of the webhooks it is woken for (`wake`, the services' local waker), at their
    time, and every `sweep_every` seconds those due (0: no sweep). A slow receiver delays other
    webhooks, never the chargers' worker thread."""

    def __init__(self, sweep_every: float) -> None:
        self._sweep_every = sweep_every
        self._due: dict[int, float] = {}
        self._condition = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="levity-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        self._thread.join(timeout=5)

    def wake(self, webhook_id: int, countdown: float) -> None:
        at = time.monotonic() + max(countdown, 0.0)
        with self._condition:
            self._due[webhook_id] = min(self._due.get(webhook_id, at), at)
            self._condition.notify()

    def _run(self) -> None:
        next_sweep = time.monotonic() + self._sweep_every if self._sweep_every > 0 else None
        while True:
            with self._condition:
                if self._stopped:
                    return
                now = time.monotonic()
                ready = [webhook_id for webhook_id, at in self._due.items() if at <= now]
                for webhook_id in ready:
                    del self._due[webhook_id]
                sweep = next_sweep is not None and now >= next_sweep
                if not ready and not sweep:
                    times = [*self._due.values()] + ([next_sweep] if next_sweep else [])
                    self._condition.wait(min(times) - now if times else None)
                    continue
            if sweep:
                assert next_sweep is not None
                next_sweep = time.monotonic() + self._sweep_every
                ready += _run_logged(_webhooks_due) or []
            for webhook_id in dict.fromkeys(ready):
                _run_logged(lambda webhook_id=webhook_id: _deliver(webhook_id))


def _run_logged(job: Callable[[], Any]) -> Any:
    try:
        return job()
    except Exception:
        log.exception("webhook sender failed")
        return None


def _webhooks_due() -> list[int]:
    from django.db import connections

    from charging import services

    try:
        return services.webhook_ids_due()
    finally:
        connections.close_all()


def _deliver(webhook_id: int) -> int:
    from charging import services

    return _on_own_connection(
        lambda: services.webhook_deliver(webhook_id=webhook_id).delivered,
        f"webhook {webhook_id}: %d delivery(ies) sent",
    )


def start_webhook_sender(sweep_every: float | None = None) -> Callable[[], None]:
    """Send webhook deliveries from a thread of this process (default sweep every
    OCPP_WEBHOOK_SWEEP_EVERY seconds). Django must be set up. Returns the function that stops
    it."""
    from charging import conf, services

    every = float(conf.get("OCPP_WEBHOOK_SWEEP_EVERY") if sweep_every is None else sweep_every)
    sender = WebhookSender(every)
    sender.start()
    services.webhooks.set_local_waker(sender.wake)

    def stop() -> None:
        services.webhooks.set_local_waker(None)
        sender.stop()

    return stop
