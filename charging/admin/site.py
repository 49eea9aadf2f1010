"""The admin site's tweaks: its index links the operators' dashboard."""

from __future__ import annotations

from django.contrib import admin

# The project's admin index links the dashboard (charging/templates/admin/charging/index.html).
admin.site.index_template = "admin/charging/index.html"
