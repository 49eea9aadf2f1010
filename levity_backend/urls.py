"""URLs of the project: admin, and the charging app's pages under demo/ocpp/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("demo/ocpp/", include("charging.urls"), name="ocpp_demo"),
]
