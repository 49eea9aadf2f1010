"""URLs of the project: admin, the HTTP API under api/v1/ and the charging app's pages under demo/ocpp/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("charging.api.urls")),
    path("demo/ocpp/", include("charging.urls"), name="ocpp_demo"),
]
