"""The dashboard page and the JSON it polls; staff only (the admin's login)."""

from __future__ import annotations

from datetime import date

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ..reports.charts import daily_bar_chart_svg
from .selectors import dashboard_summary

POLL_SECONDS = 10


def _chart(summary: dict) -> str:
    days = [(date.fromisoformat(d["day"]), d["kwh"]) for d in summary["energy_kwh"]["days"]]
    return str(daily_bar_chart_svg(days=days))


@staff_member_required
def index(request: HttpRequest) -> HttpResponse:
    summary = dashboard_summary()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "summary": summary,
        "energy_chart": _chart(summary),
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "dashboard/index.html", context)


@staff_member_required
def data(request: HttpRequest) -> JsonResponse:
    summary = dashboard_summary()
    summary["energy_chart_svg"] = _chart(summary)
    return JsonResponse(summary)
