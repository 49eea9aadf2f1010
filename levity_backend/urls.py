"""URLs of the project: `/` (to the dashboard), admin, the HTTP API under api/v1/, the operators'
dashboard under dashboard/ and the charging app's pages under demo/ocpp/."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from charging.metrics import metrics_view

from .views import home

urlpatterns = [
    path("", home, name="home"),
    # Browsers ask for /favicon.ico wherever a page names no icon (the API's JSON, say).
    path("favicon.ico", RedirectView.as_view(url=static("charging/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("charging.api.urls")),
    path("dashboard/", include("charging.dashboard.urls")),
    path("demo/ocpp/", include("charging.urls"), name="ocpp_demo"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus (README "Monitoring")
]
