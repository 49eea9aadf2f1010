"""Counting calls and their latencies per action, merging them across processes, and the report."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from levity.devstack import percentile

# Outcomes of one CALL, as counted.
ANSWERED = "answered"  # CALLRESULT
CALLERROR = "callerror"
TIMEOUT = "timeout"  # no answer within the call timeout
LOST = "lost"  # the socket closed, or the run ended, before an answer


@dataclass
class ActionStats:
    """The calls of one action: how they ended, and the latency of each answered one (ms)."""

    sent: int = 0
    answered: int = 0
    callerrors: int = 0
    timeouts: int = 0
    lost: int = 0
    latencies: list[float] = field(default_factory=list)
    error_codes: Counter[str] = field(default_factory=Counter)

    def record(self, outcome: str, latency_ms: float | None, error_code: str = "") -> None:
        if outcome == ANSWERED:
            self.answered += 1
        elif outcome == CALLERROR:
            self.callerrors += 1
            self.error_codes[error_code] += 1
        elif outcome == TIMEOUT:
            self.timeouts += 1
        else:
            self.lost += 1
        # A CALLERROR is an answer too: its latency counts (send → CALLRESULT/CALLERROR).
        if latency_ms is not None and outcome in (ANSWERED, CALLERROR):
            self.latencies.append(latency_ms)

    def merge(self, other: ActionStats) -> None:
        self.sent += other.sent
        self.answered += other.answered
        self.callerrors += other.callerrors
        self.timeouts += other.timeouts
        self.lost += other.lost
        self.latencies.extend(other.latencies)
        self.error_codes.update(other.error_codes)

    def counts(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "answered": self.answered,
            "callerrors": self.callerrors,
            "timeouts": self.timeouts,
            "lost": self.lost,
            "error_codes": dict(self.error_codes),
        }

    def to_wire(self) -> dict[str, Any]:
        """Plain data, to cross a process boundary."""
        return {**self.counts(), "latencies": self.latencies}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ActionStats:
        return cls(
            sent=data["sent"],
            answered=data["answered"],
            callerrors=data["callerrors"],
            timeouts=data["timeouts"],
            lost=data["lost"],
            latencies=list(data["latencies"]),
            error_codes=Counter(data["error_codes"]),
        )

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = self.latencies
        return {
            **self.counts(),
            # Sent but neither answered nor given up when the run ended.
            "unfinished": self.sent - self.answered - self.callerrors - self.timeouts - self.lost,
            "throughput": self.answered / seconds if seconds > 0 else 0.0,
            "p50_ms": percentile(lat, 0.50),
            "p95_ms": percentile(lat, 0.95),
            "p99_ms": percentile(lat, 0.99),
            "max_ms": max(lat) if lat else math.nan,
        }


class CallStats:
    """`ActionStats` per action, plus the total."""

    def __init__(self) -> None:
        self.actions: dict[str, ActionStats] = {}

    def action(self, name: str) -> ActionStats:
        stats = self.actions.get(name)
        if stats is None:
            stats = self.actions[name] = ActionStats()
        return stats

    def merge(self, other: CallStats) -> None:
        for name, stats in other.actions.items():
            self.action(name).merge(stats)

    def total(self) -> ActionStats:
        total = ActionStats()
        for stats in self.actions.values():
            total.merge(stats)
        return total

    def to_wire(self) -> dict[str, Any]:
        return {name: stats.to_wire() for name, stats in self.actions.items()}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CallStats:
        stats = cls()
        stats.actions = {name: ActionStats.from_wire(one) for name, one in data.items()}
        return stats

    def summary(self, seconds: float) -> dict[str, Any]:
        """Per action and `"total"`, as JSON-ready numbers."""
        out = {name: self.actions[name].summary(seconds) for name in sorted(self.actions)}
        out["total"] = self.total().summary(seconds)
        return out


def errors(summary: dict[str, Any]) -> int:
    """CALLERRORs, timeouts and lost calls of a `CallStats.summary()` total."""
    total = summary["total"]
    return total["callerrors"] + total["timeouts"] + total["lost"]
