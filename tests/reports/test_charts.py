"""The SVG charts: the points drawn are the data, scaled into the plot."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from charging.reports import charts
from charging.reports.energy import power_from_energy

T0 = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1.0), (0.7, 1.0), (1.2, 2.0), (2.2, 2.5), (3, 5.0), (7, 10), (42, 50)],
)
def test_nice_max(value, expected):
    assert charts.nice_max(value) == pytest.approx(expected)


def polyline(svg: str, name: str) -> list[tuple[float, float]]:
    match = re.search(rf'class="series-{name}"[^>]*points="([^"]+)"', svg)
    assert match, svg
    return [tuple(float(n) for n in pair.split(",")) for pair in match.group(1).split()]


def test_transaction_chart_draws_energy_and_power_points():
    energy = [(T0, 0.0), (T0 + timedelta(minutes=30), 1.0), (T0 + timedelta(hours=1), 2.0)]
    power = [(T0, 4.0), (T0 + timedelta(hours=1), 2.0)]
    svg = str(charts.transaction_chart_svg(energy_kwh=energy, power_kw=power, zone=UTC))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    # 760 × 280, margins 56/56/28/36: plot x 56..704, y 28..244 (216 high); axes top at 2 and 5.
    assert polyline(svg, "energy") == [(56.0, 244.0), (380.0, 136.0), (704.0, 28.0)]
    assert polyline(svg, "power") == [
        (56.0, pytest.approx(244 - 4 / 5 * 216, abs=0.05)),
        (704.0, pytest.approx(244 - 2 / 5 * 216, abs=0.05)),
    ]
    assert ">10:00<" in svg and ">11:00<" in svg  # time axis in the given zone
    assert "kWh" in svg and "kW<" in svg


def test_small_values_and_short_sessions_keep_readable_axes():
    # A few seconds of a simulated session: a few Wh, all in one minute.
    energy = [(T0 + timedelta(seconds=i), i * 0.003) for i in range(4)]
    svg = str(charts.transaction_chart_svg(energy_kwh=energy, power_kw=[], zone=UTC))
    kwh_ticks = re.findall(r'fill="#417690">([^<]+)</text>', svg)
    assert kwh_ticks[:6] == ["0", "0.0025", "0.005", "0.0075", "0.01", "kWh"]
    time_ticks = re.findall(r">(\d\d:\d\d(?::\d\d)?)</text>", svg)
    assert time_ticks == ["10:00:00", "10:00:00", "10:00:01", "10:00:02", "10:00:03"]


def test_jumps_are_marked_and_empty_charts_say_so():
    svg = str(
        charts.transaction_chart_svg(
            energy_kwh=[(T0, 0.0), (T0 + timedelta(hours=1), 1.0)],
            power_kw=[],
            jumps_at=[T0 + timedelta(minutes=30)],
            zone=UTC,
        )
    )
    assert svg.count('class="jump"') == 1 and 'x1="380.0"' in svg
    empty = str(charts.transaction_chart_svg(energy_kwh=[], power_kw=[], zone=UTC))
    assert "No timed meter values" in empty and "polyline" not in empty


def test_power_from_energy_deltas():
    energy = [(T0, 0.0), (T0 + timedelta(minutes=15), 2.5), (T0 + timedelta(minutes=45), 5.0)]
    assert power_from_energy(energy) == [
        (T0 + timedelta(minutes=15), pytest.approx(10.0)),
        (T0 + timedelta(minutes=45), pytest.approx(5.0)),
    ]


def test_daily_bar_chart_has_one_bar_per_day_with_its_height():
    days = [(date(2026, 1, 1) + timedelta(days=i), float(i)) for i in range(30)]
    svg = str(charts.daily_bar_chart_svg(days=days))
    bars = re.findall(r'<rect class="bar" data-day="([^"]+)"[^>]*height="([^"]+)"', svg)
    assert len(bars) == 30
    # 220 high, margins 24/32: plot 164 high; top of axis nice_max(29) = 50.
    assert bars[0] == ("2026-01-01", "0.0")
    assert bars[-1] == ("2026-01-30", f"{29 / 50 * 164:.1f}")
    assert "2026-01-30: 29.000 kWh" in svg


def test_labels_are_escaped():
    svg = str(charts.daily_bar_chart_svg(days=[(date(2026, 1, 1), 1.0)], unit="<b>"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_schedule_chart_draws_each_period_as_a_step_to_the_duration():
    periods = [{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 1800, "limit": 8.0}]
    svg = str(charts.schedule_chart_svg(periods=periods, unit="A", duration=3600))
    # 760 × 220, margins 56/12/24/32: plot x 56..748 (692 wide), y 24..188 (164 high); top 20 A.
    assert polyline(svg, "limit") == [
        (56.0, pytest.approx(188 - 16 / 20 * 164, abs=0.05)),
        (402.0, pytest.approx(188 - 16 / 20 * 164, abs=0.05)),
        (402.0, pytest.approx(188 - 8 / 20 * 164, abs=0.05)),
        (748.0, pytest.approx(188 - 8 / 20 * 164, abs=0.05)),
    ]
    assert "from 30 min: 8 A" in svg and ">1 h<" in svg


def test_schedule_chart_without_periods_says_so_and_escapes_the_unit():
    svg = str(charts.schedule_chart_svg(periods=[{"limit": "x"}], unit="<W>"))
    assert "No schedule periods" in svg and "<W>" not in svg
