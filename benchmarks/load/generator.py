"""The load generator: many simulated chargers per asyncio process, several processes, one
boot phase, then the mix at `rate` calls/s for `duration` seconds, with a progress bar."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.load.charger import Shared, SimCharger
from benchmarks.load.mix import Mix
from benchmarks.load.procstats import ProcessSampler
from benchmarks.load.stats import CallStats

# Slots of each client process's counter array (written by that process only).
ANSWERED, BOOTED, CONNECTED, REMOTE_STARTS, READY = range(5)
# Slots of the control array (written by the parent only).
GO, STOP = range(2)


def raise_open_file_limit() -> int:
    """Soft open-file limit up to the hard one (children inherit it); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class LoadSpec:
    url: str  # ws://host:port/ocpp/ ; the charge point id is appended
    chargers: int = 100
    rate: float = 50.0  # CALLs per second over all chargers, after the boot phase
    duration: float = 30.0
    mix: str = "default"
    processes: int = 1
    call_timeout: float = 30.0
    connect_rate: float = 200.0  # new connections per second during the boot phase
    boot_timeout: float = 120.0  # the boot phase gives up after this long
    id_prefix: str = "LOAD"
    reconnect: bool = True
    boot: bool = True  # False: chargers send no BootNotification/StatusNotification
    boot_on_reconnect: bool = False  # with boot False: they do after a reconnect
    seed: int = 1

    def per_charger_interval(self) -> float:
        return self.chargers / self.rate if self.rate > 0 else 3600.0


@dataclass
class RunResult:
    spec: LoadSpec
    stats: CallStats
    boot_stats: CallStats
    seconds: float  # the measured window: from the end of the boot phase to the stop
    boot_seconds: float
    booted: int  # chargers that had booted when the window opened
    boot_times: list[float] = field(default_factory=list)  # wall clock, every accepted boot
    remote_starts: int = 0
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.spec.url,
            "chargers": self.spec.chargers,
            "booted": self.booted,
            "rate_target": self.spec.rate,
            "duration": self.spec.duration,
            "mix": Mix.parse(self.spec.mix).describe(),
            "seconds": self.seconds,
            "boot_seconds": self.boot_seconds,
            "calls": self.stats.summary(self.seconds),
            "boot_calls": self.boot_stats.summary(max(self.boot_seconds, 1e-9)),
            "remote_starts_accepted": self.remote_starts,
            "processes": self.processes,
        }


def _charger_ids(spec: LoadSpec, index: int) -> list[int]:
    """The charger numbers that client process `index` runs."""
    return list(range(index, spec.chargers, spec.processes))


async def _client(spec: LoadSpec, index: int, control: Any, counters: Any, results: Any) -> None:
    shared = Shared()
    mix = Mix.parse(spec.mix)
    rng = random.Random(spec.seed * 1000 + index)
    numbers = _charger_ids(spec, index)
    chargers = [
        SimCharger(
            f"{spec.id_prefix}-{n}",
            spec.url,
            mix,
            shared,
            interval=spec.per_charger_interval(),
            call_timeout=spec.call_timeout,
            reconnect=spec.reconnect,
            boot=spec.boot,
            boot_on_reconnect=spec.boot_on_reconnect,
            rng=random.Random(rng.getrandbits(64)),
        )
        for n in numbers
    ]
    # This process's share of the connect rate.
    gap = spec.processes / spec.connect_rate if spec.connect_rate > 0 else 0.0

    async def start(position: int, sim: SimCharger) -> None:
        await asyncio.sleep(position * gap)
        await sim.run()

    tasks = [asyncio.create_task(start(i, sim)) for i, sim in enumerate(chargers)]
    go_at = stop_at = 0.0
    while True:
        counters[ANSWERED] = sum(
            s.answered + s.callerrors for s in shared.stats.actions.values()
        ) + sum(s.answered + s.callerrors for s in shared.boot_stats.actions.values())
        counters[BOOTED] = len(shared.boot_times)
        counters[CONNECTED] = shared.connected
        counters[REMOTE_STARTS] = shared.remote_starts
        counters[READY] = shared.ready
        if control[GO] and not shared.go.is_set():
            go_at = time.time()
            shared.go.set()
        if control[STOP]:
            stop_at = time.time()
            shared.stop.set()
            for sim in chargers:
                sim.wake.set()
            break
        await asyncio.sleep(0.1)
    # Let outstanding calls finish (bounded), then drop the rest: they count as unfinished.
    _, pending = await asyncio.wait(tasks, timeout=min(spec.call_timeout, 10.0))
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    results.put(
        {
            "index": index,
            "stats": shared.stats.to_wire(),
            "boot_stats": shared.boot_stats.to_wire(),
            "boot_times": shared.boot_times,
            "remote_starts": shared.remote_starts,
            "go_at": go_at,
            "stop_at": stop_at,
        }
    )


def _client_main(spec: LoadSpec, index: int, control: Any, counters: Any, results: Any) -> None:
    raise_open_file_limit()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    asyncio.run(_client(spec, index, control, counters, results))


def _exit_with_parent(parent: int) -> None:
    """A client process whose parent was killed (SIGKILL skips the stop signal) would go on
    reconnecting its chargers to a port someone else may get next: it ends within a second."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


class LoadRun:
    """A run of the generator, step by step (start, wait_booted, go, stop, collect) for the
    scenarios that do things in between; `run()` does the usual sequence."""

    def __init__(self, spec: LoadSpec, *, progress: bool = True) -> None:
        self.spec = spec
        self.progress = progress
        raise_open_file_limit()
        ctx = multiprocessing.get_context("spawn")
        self._control = ctx.Array("q", 2, lock=False)
        self._counters = [ctx.Array("q", 5, lock=False) for _ in range(spec.processes)]
        self._results = ctx.Queue()
        self._procs = [
            ctx.Process(
                target=_client_main,
                args=(spec, i, self._control, self._counters[i], self._results),
                daemon=True,
            )
            for i in range(spec.processes)
        ]
        self.started_at = self.go_at = self.stop_at = 0.0
        self.booted_at_go = 0

    def counter(self, slot: int) -> int:
        return sum(c[slot] for c in self._counters)

    def start(self) -> LoadRun:
        self.started_at = time.monotonic()
        for proc in self._procs:
            proc.start()
        return self

    def wait_booted(
        self, count: int, timeout: float, *, label: str = "booting", slot: int = READY
    ) -> bool:
        """Wait (with a progress bar) until `count` chargers in all have booted and sent their
        StatusNotifications (`slot=BOOTED`: until `count` BootNotifications were accepted);
        False on timeout."""
        deadline = time.monotonic() + timeout
        with _bar(self.progress, total=count, desc=label, unit="cp") as bar:
            while True:
                booted = self.counter(slot)
                bar.update(min(booted, count) - bar.n)
                if booted >= count:
                    return True
                if time.monotonic() > deadline or not any(p.is_alive() for p in self._procs):
                    return False
                time.sleep(0.1)

    def go(self) -> None:
        self.booted_at_go = self.counter(READY)
        self.go_at = time.monotonic()
        self._control[GO] = 1

    def hold(self, seconds: float, *, label: str = "load") -> None:
        """Let the load run `seconds`, showing the calls answered and the rate."""
        end = time.monotonic() + seconds
        with _bar(self.progress, total=round(seconds), desc=label, unit="s") as bar:
            last_answered, last_at = self.counter(ANSWERED), time.monotonic()
            while (left := end - time.monotonic()) > 0:
                time.sleep(min(1.0, left))
                now, answered = time.monotonic(), self.counter(ANSWERED)
                bar.set_postfix(
                    calls=answered,
                    rate=f"{(answered - last_answered) / max(now - last_at, 1e-9):.0f}/s",
                    connected=self.counter(CONNECTED),
                    refresh=False,
                )
                last_answered, last_at = answered, now
                bar.update(min(round(seconds - (end - now)), bar.total) - bar.n)

    def stop(self) -> None:
        self.stop_at = time.monotonic()
        self._control[STOP] = 1

    def collect(self, processes: dict[str, dict[str, Any]] | None = None) -> RunResult:
        parts = [self._results.get(timeout=60) for _ in self._procs]
        for proc in self._procs:
            proc.join(10)
        stats, boot_stats = CallStats(), CallStats()
        boot_times: list[float] = []
        for part in parts:
            stats.merge(CallStats.from_wire(part["stats"]))
            boot_stats.merge(CallStats.from_wire(part["boot_stats"]))
            boot_times.extend(part["boot_times"])
        go_at = self.go_at or self.stop_at
        return RunResult(
            spec=self.spec,
            stats=stats,
            boot_stats=boot_stats,
            seconds=self.stop_at - go_at,
            boot_seconds=go_at - self.started_at,
            booted=self.booted_at_go,
            boot_times=sorted(boot_times),
            remote_starts=sum(part["remote_starts"] for part in parts),
            processes=processes or {},
        )

    def terminate(self) -> None:
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)

    def run(self, watch: dict[str, int] | None = None) -> RunResult:
        """Boot every charger (at most `boot_timeout`), run the mix for `duration`, stop."""
        self.start()
        try:
            self.wait_booted(self.spec.chargers, self.spec.boot_timeout)
            sampler = ProcessSampler(watch or {}).start()
            self.go()
            self.hold(self.spec.duration)
            self.stop()
            processes = sampler.stop()
            return self.collect(processes)
        finally:
            self.terminate()


@contextlib.contextmanager
def _bar(enabled: bool, **kwargs: Any):
    from tqdm import tqdm

    bar = tqdm(disable=not enabled, file=sys.stderr, leave=False, dynamic_ncols=True, **kwargs)
    try:
        yield bar
    finally:
        bar.close()
