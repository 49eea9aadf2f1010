"""The admin app with the project's site (levity_backend.admin.LevityAdminSite) as `admin.site`."""

from django.contrib.admin.apps import AdminConfig


class LevityAdminConfig(AdminConfig):
    default_site = "levity_backend.admin.LevityAdminSite"
