"""Periodic housekeeping without a broker: the embedded process's stand-in for Celery beat."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

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
