"""RSS and CPU of the processes under test (a process and its children, e.g. Celery's prefork
pool), sampled with psutil while a run goes on."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and its children, now."""
    total = 0
    for proc in _tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


@dataclass
class _Watched:
    pid: int
    cpu: dict[int, float] = field(default_factory=dict)  # per process of the tree: CPU seconds
    rss_peak: int = 0
    rss_sum: int = 0
    samples: int = 0

    def sample(self) -> None:
        rss = 0
        for proc in _tree(self.pid):
            try:
                times = proc.cpu_times()
                rss += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            self.cpu[proc.pid] = times.user + times.system
        self.rss_peak = max(self.rss_peak, rss)
        self.rss_sum += rss
        self.samples += 1


class ProcessSampler:
    """Samples `{name: pid}` every `interval` seconds from a thread between start() and stop()."""

    def __init__(self, watch: dict[str, int], *, interval: float = 1.0) -> None:
        self.interval = interval
        self._watched = {name: _Watched(pid) for name, pid in watch.items()}
        self._cpu_start: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._began = self._ended = 0.0

    def start(self) -> ProcessSampler:
        for watched in self._watched.values():
            watched.sample()
        self._cpu_start = {name: sum(w.cpu.values()) for name, w in self._watched.items()}
        self._began = time.monotonic()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            for watched in self._watched.values():
                watched.sample()

    def stop(self) -> dict[str, dict[str, Any]]:
        """Per name: peak and mean RSS (MiB) and CPU (% of one core) over the sampled time."""
        self._stop.set()
        self._thread.join()
        for watched in self._watched.values():
            watched.sample()
        self._ended = time.monotonic()
        seconds = max(self._ended - self._began, 1e-9)
        out = {}
        for name, watched in self._watched.items():
            # Children that exited between samples lose their last CPU time: an underestimate
            # only for processes that come and go (none of ours do during a run).
            cpu = sum(watched.cpu.values()) - self._cpu_start[name]
            out[name] = {
                "pid": watched.pid,
                "rss_peak_mib": watched.rss_peak / 2**20,
                "rss_mean_mib": watched.rss_sum / max(watched.samples, 1) / 2**20,
                "cpu_percent": 100 * cpu / seconds,
            }
        return out
