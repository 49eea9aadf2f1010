"""Read-only admin bases and the small HTML pieces the admin pages share."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince


class ReadOnlyAdmin(admin.ModelAdmin):
    """Charger-owned data: viewable, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- small HTML pieces ------------------------------------------------------------------------

STATUS_COLOURS = {
    "Available": "#2e7d32",
    "Preparing": "#b26a00",
    "Charging": "#1565c0",
    "SuspendedEV": "#b26a00",
    "SuspendedEVSE": "#b26a00",
    "Finishing": "#b26a00",
    "Reserved": "#6a1b9a",
    "Unavailable": "#616161",
    "Faulted": "#ba2121",
}


def _badge(text: str, colour: str, title: str = "") -> SafeString:
    return format_html(
        '<span title="{}" style="display:inline-block;padding:1px 6px;margin:1px 2px;'
        'border-radius:8px;color:#fff;background:{};font-size:11px;white-space:nowrap">{}</span>',
        title,
        colour,
        text,
    )


def _moment(moment: datetime) -> str:
    """A moment as every admin page writes it (the project's DATETIME_FORMAT, local zone)."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _relative(moment: datetime | None) -> SafeString | str:
    if moment is None:
        return "-"
    seconds = (timezone.now() - moment).total_seconds()
    ago = f"{max(0, int(seconds))} s" if seconds < 60 else timesince(moment).split(",")[0]
    return format_html('<span title="{}">{} ago</span>', _moment(moment), ago)


def _json_block(value: Any) -> SafeString | str:
    if value is None:
        return "-"
    return format_html(
        '<pre style="white-space:pre-wrap;margin:0">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


def _table(headers: list[str], rows: list[tuple[Any, ...]], empty: str = "None") -> SafeString:
    if not rows:
        return format_html("<p>{}</p>", empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _change_link(obj: Any, text: Any) -> SafeString:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text)
