"""Plain-text tables of a run and of the comparison ours / baseline, and the JSON file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _ms(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def calls_table(calls: dict[str, dict[str, Any]]) -> str:
    """One row per action and the total, from `CallStats.summary()`."""
    headers = [
        "action",
        "sent",
        "answered",
        "CALLERROR",
        "timeouts",
        "lost",
        "unfinished",
        "calls/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    ]
    rows = [
        [
            name,
            str(s["sent"]),
            str(s["answered"]),
            str(s["callerrors"]),
            str(s["timeouts"]),
            str(s["lost"]),
            str(s["unfinished"]),
            f"{s['throughput']:.1f}",
            _ms(s["p50_ms"]),
            _ms(s["p95_ms"]),
            _ms(s["p99_ms"]),
            _ms(s["max_ms"]),
        ]
        for name, s in calls.items()
    ]
    return table(headers, rows)


def processes_table(processes: dict[str, dict[str, Any]]) -> str:
    rows = [
        [name, f"{p['rss_peak_mib']:.1f}", f"{p['rss_mean_mib']:.1f}", f"{p['cpu_percent']:.0f}"]
        for name, p in processes.items()
    ]
    return table(["process", "RSS peak MiB", "RSS mean MiB", "CPU % (of one core)"], rows)


def ratio(ours: float, baseline: float) -> str:
    if not baseline or math.isnan(baseline) or ours is None or math.isnan(ours):
        return "-"
    return f"{ours / baseline:.2f}"


def _fmt(fmt: str, value: float) -> str:
    return "-" if value is None or math.isnan(value) else fmt.format(value)


def comparison_table(rows: list[tuple[str, float, float, str]]) -> str:
    """(metric, ours, baseline, format) → metric | ours | baseline | ours / baseline."""
    return table(
        ["metric", "ours", "baseline", "ours / baseline"],
        [
            [name, _fmt(fmt, ours), _fmt(fmt, base), ratio(ours, base)]
            for name, ours, base, fmt in rows
        ],
    )


def run_report(title: str, summary: dict[str, Any]) -> str:
    parts = [
        f"== {title}: {summary['chargers']} chargers, target {summary['rate_target']:.0f} calls/s, "
        f"{summary['mix']}, measured {summary['seconds']:.1f} s after a {summary['boot_seconds']:.1f} s boot phase",
        calls_table(summary["calls"]),
    ]
    if summary.get("processes"):
        parts.append(processes_table(summary["processes"]))
    return "\n".join(parts)


def _plain(value: Any) -> Any:
    """NaN → None, so that the file is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(data), indent=2) + "\n")
