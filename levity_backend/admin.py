"""The project's admin site: Levity's name, charging first, Celery's task results under "System" for superusers only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

# Apps in the order an operator looks for them; anything else after them, alphabetically.
APP_ORDER = ("charging", "auth", "authtoken")
SYSTEM_APPS = {"django_celery_results": "System (Celery task results)"}


class LevityAdminSite(admin.AdminSite):
    site_header = "Levity"
    site_title = "Levity"
    index_title = "Charging operations"

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        if not request.user.is_superuser:
            # Celery's task records are for whoever runs the system, not for operators.
            apps = [app for app in apps if app["app_label"] not in SYSTEM_APPS]
        for app in apps:
            app["name"] = SYSTEM_APPS.get(app["app_label"], app["name"])
        rank = {label: index for index, label in enumerate(APP_ORDER)}
        return sorted(
            apps,
            key=lambda app: (
                app["app_label"] in SYSTEM_APPS,
                rank.get(app["app_label"], len(rank)),
                app["name"],
            ),
        )
