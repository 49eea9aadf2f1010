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


def expire_stale_calls() -> int:
    """`services.expire_due` on a database connection of its own, closed after (once a minute:
    not worth keeping open, and none is left behind when the thread ends)."""
    from django.db import connections

    from charging import services

    try:
        ended = services.expire_due().calls
    finally:
        connections.close_all()  # this thread's connections only
    if ended:
        log.info("%d stale call(s) ended", ended)
    return ended


def start_stale_call_expiry(every: float | None = None) -> Callable[[], None]:
    """Run `expire_stale_calls` every `every` seconds (default OCPP_EXPIRE_STALE_CALLS_EVERY; 0:
    never) on a daemon thread. Django must be set up. Returns the function that stops it."""
    from charging import conf

    every = float(conf.get("OCPP_EXPIRE_STALE_CALLS_EVERY") if every is None else every)
    if every <= 0:
        return lambda: None
    stop = threading.Event()
    thread = threading.Thread(
        target=run_every,
        args=(every, expire_stale_calls),
        kwargs={"stop": stop},
        name="levity-expire-stale-calls",
        daemon=True,
    )
    thread.start()

    def stop_expiry() -> None:
        stop.set()
        thread.join(timeout=5)

    return stop_expiry
