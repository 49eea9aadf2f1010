"""URLs of the dashboard (mounted by the project under dashboard/)."""

from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("data.json", views.data, name="data"),
]
