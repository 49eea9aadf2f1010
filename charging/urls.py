"""URLs of the charging app (mounted by the project under demo/ocpp/)."""

from django.urls import path

from . import views

app_name = "charging"

urlpatterns = [
    path("", views.index, name="index"),
]
