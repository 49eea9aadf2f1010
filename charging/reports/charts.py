"""Server-rendered SVG charts (no JavaScript, nothing fetched): a transaction's energy and power
over time, energy per day, and charging schedules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ENERGY_COLOUR = "#417690"  # the admin's own blue
POWER_COLOUR = "#e07b00"
JUMP_COLOUR = "#ba2121"
GRID_COLOUR = "#ddd"
TEXT_STYLE = 'font-family="sans-serif" font-size="11" fill="#555"'

Point = tuple[datetime, float]


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (1 when there is nothing)."""
    if not value or value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _num(value: float) -> str:
    return f"{value:.1f}"


def _label(value: float) -> str:
    """An axis value in plain digits: 0.0025, 12.5, 2500000. The ticks are quarters of a
    `nice_max`, so 6 significant digits are exact (two decimals would print 0.0025 as "0.")."""
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"


class _Frame:
    """The plotting area of a chart and its scales."""

    def __init__(self, *, width: int, height: int, left: int, right: int, top: int, bottom: int):
        self.width, self.height = width, height
        self.left, self.top = left, top
        self.plot_w = width - left - right
        self.plot_h = height - top - bottom

    def y(self, value: float, top_value: float) -> float:
        return self.top + self.plot_h - (value / top_value) * self.plot_h

    @property
    def bottom_y(self) -> float:
        return self.top + self.plot_h


def _svg(frame: _Frame, title: str, body: list[str]) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="levity-chart" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}"><title>{escape(title)}</title>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # every text in it was escaped


def _y_axis(
    frame: _Frame, top_value: float, *, x: float, anchor: str, colour: str, unit: str
) -> list[str]:
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = frame.y(value, top_value)
        if anchor == "end":
            parts.append(
                f'<line x1="{frame.left}" x2="{frame.left + frame.plot_w}" y1="{_num(y)}" '
                f'y2="{_num(y)}" stroke="{GRID_COLOUR}" stroke-width="1"/>'
            )
        parts.append(
            f'<text x="{_num(x)}" y="{_num(y + 4)}" text-anchor="{anchor}" '
            f'font-family="sans-serif" font-size="11" fill="{colour}">{_label(value)}</text>'
        )
    parts.append(
        f'<text x="{_num(x)}" y="{frame.top - 8}" text-anchor="{anchor}" '
        f'font-family="sans-serif" font-size="11" font-weight="bold" fill="{colour}">'
        f"{escape(unit)}</text>"
    )
    return parts


def transaction_chart_svg(
    *,
    energy_kwh: Sequence[Point],
    power_kw: Sequence[Point],
    zone: tzinfo,
    jumps_at: Sequence[datetime] = (),
    width: int = 760,
    height: int = 280,
) -> SafeString:
    """Energy delivered (kWh, left axis, line) and power (kW, right axis, line) against the
    charger's time, shown in `zone`; flagged register jumps are red marks on the time axis."""
    frame = _Frame(width=width, height=height, left=56, right=56, top=28, bottom=36)
    title = "Energy (kWh) and power (kW) over time"
    moments = [at for at, _ in (*energy_kwh, *power_kw)] + list(jumps_at)
    if not moments:
        body = [
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" {TEXT_STYLE}>'
            "No timed meter values</text>"
        ]
        return _svg(frame, title, body)
    t0, t1 = min(moments), max(moments)
    span = (t1 - t0).total_seconds()

    def x(at: datetime) -> float:
        if span <= 0:
            return frame.left + frame.plot_w / 2
        return frame.left + (at - t0).total_seconds() / span * frame.plot_w

    e_top = nice_max(max((value for _, value in energy_kwh), default=0.0))
    p_top = nice_max(max((value for _, value in power_kw), default=0.0))
    body = _y_axis(frame, e_top, x=frame.left - 6, anchor="end", colour=ENERGY_COLOUR, unit="kWh")
    body += _y_axis(
        frame,
        p_top,
        x=frame.left + frame.plot_w + 6,
        anchor="start",
        colour=POWER_COLOUR,
        unit="kW",
    )
    body.append(
        f'<line x1="{frame.left}" x2="{frame.left + frame.plot_w}" y1="{_num(frame.bottom_y)}" '
        f'y2="{_num(frame.bottom_y)}" stroke="#999" stroke-width="1"/>'
    )
    # A session of a few minutes needs seconds, or every tick reads the same minute.
    fmt = "%H:%M:%S" if span < 600 else "%H:%M" if span < 86400 else "%m-%d %H:%M"
    ticks = 1 if span <= 0 else 5
    for i in range(ticks):
        at = t0 + (t1 - t0) * (i / (ticks - 1)) if ticks > 1 else t0
        anchor = "start" if i == 0 and ticks > 1 else "end" if i == ticks - 1 else "middle"
        body.append(
            f'<text x="{_num(x(at))}" y="{_num(frame.bottom_y + 16)}" text-anchor="{anchor}" '
            f"{TEXT_STYLE}>{escape(at.astimezone(zone).strftime(fmt))}</text>"
        )
    for name, points, top, colour in (
        ("power", power_kw, p_top, POWER_COLOUR),
        ("energy", energy_kwh, e_top, ENERGY_COLOUR),
    ):
        if not points:
            continue
        coords = " ".join(f"{_num(x(at))},{_num(frame.y(value, top))}" for at, value in points)
        body.append(
            f'<polyline class="series-{name}" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{coords}"/>'
        )
        if len(points) == 1:
            body.append(
                f'<circle cx="{coords.split(",")[0]}" cy="{coords.split(",")[1]}" r="3" '
                f'fill="{colour}"/>'
            )
    for at in jumps_at:
        body.append(
            f'<line class="jump" x1="{_num(x(at))}" x2="{_num(x(at))}" y1="{frame.top}" '
            f'y2="{_num(frame.bottom_y)}" stroke="{JUMP_COLOUR}" stroke-dasharray="3,3">'
            f"<title>energy jump at {escape(at.astimezone(zone).isoformat())} (left out)"
            "</title></line>"
        )
    legend_y = height - 4
    body.append(
        f'<text x="{frame.left}" y="{legend_y}" font-family="sans-serif" font-size="11" '
        f'fill="{ENERGY_COLOUR}">— energy delivered (kWh)</text>'
        f'<text x="{frame.left + 200}" y="{legend_y}" font-family="sans-serif" font-size="11" '
        f'fill="{POWER_COLOUR}">— power (kW)</text>'
    )
    if jumps_at:
        body.append(
            f'<text x="{frame.left + 330}" y="{legend_y}" font-family="sans-serif" '
            f'font-size="11" fill="{JUMP_COLOUR}">┆ flagged energy jump</text>'
        )
    return _svg(frame, title, body)


def daily_bar_chart_svg(
    *, days: Sequence[tuple[date, float]], unit: str = "kWh", width: int = 760, height: int = 220
) -> SafeString:
    """One bar per day (oldest left), its value on hover; the last day is highlighted."""
    frame = _Frame(width=width, height=height, left=56, right=12, top=24, bottom=32)
    title = f"Energy delivered per day ({unit})"
    top = nice_max(max((value for _, value in days), default=0.0))
    body = _y_axis(frame, top, x=frame.left - 6, anchor="end", colour="#555", unit=unit)
    slot = frame.plot_w / max(len(days), 1)
    for i, (day, value) in enumerate(days):
        bar_h = max(value, 0.0) / top * frame.plot_h
        x = frame.left + i * slot + slot * 0.15
        colour = ENERGY_COLOUR if i < len(days) - 1 else POWER_COLOUR
        body.append(
            f'<rect class="bar" data-day="{day.isoformat()}" x="{_num(x)}" '
            f'y="{_num(frame.bottom_y - bar_h)}" width="{_num(slot * 0.7)}" '
            f'height="{_num(bar_h)}" fill="{colour}"><title>{day.isoformat()}: '
            f"{value:.3f} {escape(unit)}</title></rect>"
        )
        if i % 5 == (len(days) - 1) % 5:
            body.append(
                f'<text x="{_num(x + slot * 0.35)}" y="{_num(frame.bottom_y + 16)}" '
                f'text-anchor="middle" {TEXT_STYLE}>{day.strftime("%m-%d")}</text>'
            )
    body.append(
        f'<line x1="{frame.left}" x2="{frame.left + frame.plot_w}" y1="{_num(frame.bottom_y)}" '
        f'y2="{_num(frame.bottom_y)}" stroke="#999" stroke-width="1"/>'
    )
    return _svg(frame, title, body)


def _seconds_label(seconds: float) -> str:
    """0, 90 s, 15 min, 1 h 30 min: a schedule's offset from its start."""
    seconds = int(round(seconds))
    if seconds == 0:
        return "0"
    if seconds < 120:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def schedule_chart_svg(
    *,
    periods: Sequence[dict],
    unit: str,
    duration: float | None = None,
    title: str = "",
    width: int = 760,
    height: int = 220,
) -> SafeString:
    """A charging schedule (OCPP 1.6 §7.13 ChargingSchedule) as steps: each period's limit
    (A or W) from its startPeriod to the next one's, the last to `duration` seconds (or a
    quarter past its start when the schedule has no duration)."""
    frame = _Frame(width=width, height=height, left=56, right=12, top=24, bottom=32)
    title = title or f"Charging limit ({unit}) over the schedule"
    steps = sorted(
        (float(p["startPeriod"]), float(p["limit"]))
        for p in periods
        if isinstance(p, dict)
        and isinstance(p.get("startPeriod"), int | float)
        and isinstance(p.get("limit"), int | float)
    )
    if not steps:
        body = [
            f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" {TEXT_STYLE}>'
            "No schedule periods</text>"
        ]
        return _svg(frame, title, body)
    last_start = steps[-1][0]
    end = float(duration) if duration and duration > last_start else last_start * 1.25 or 3600.0
    steps = [(start, limit) for start, limit in steps if start < end]
    top = nice_max(max(limit for _, limit in steps))
    body = _y_axis(frame, top, x=frame.left - 6, anchor="end", colour="#555", unit=unit)

    def x(seconds: float) -> float:
        return frame.left + seconds / end * frame.plot_w

    coords = []
    for i, (start, limit) in enumerate(steps):
        stop = steps[i + 1][0] if i + 1 < len(steps) else end
        y = frame.y(limit, top)
        coords += [f"{_num(x(start))},{_num(y)}", f"{_num(x(stop))},{_num(y)}"]
        body.append(
            f'<rect class="period" x="{_num(x(start))}" y="{_num(y)}" '
            f'width="{_num(x(stop) - x(start))}" height="{_num(frame.bottom_y - y)}" '
            f'fill="{ENERGY_COLOUR}" fill-opacity="0.15"><title>from {_seconds_label(start)}: '
            f"{_label(limit)} {escape(unit)}</title></rect>"
        )
    body.append(
        f'<polyline class="series-limit" fill="none" stroke="{ENERGY_COLOUR}" stroke-width="2" '
        f'points="{" ".join(coords)}"/>'
    )
    body.append(
        f'<line x1="{frame.left}" x2="{frame.left + frame.plot_w}" y1="{_num(frame.bottom_y)}" '
        f'y2="{_num(frame.bottom_y)}" stroke="#999" stroke-width="1"/>'
    )
    for i in range(5):
        at = end * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        body.append(
            f'<text x="{_num(x(at))}" y="{_num(frame.bottom_y + 16)}" text-anchor="{anchor}" '
            f"{TEXT_STYLE}>{_seconds_label(at)}</text>"
        )
    return _svg(frame, title, body)
