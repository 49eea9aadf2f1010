"""The project's own page: `/` sends operators to the dashboard, or to the login page first."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse


def home(request: HttpRequest) -> HttpResponseRedirect:
    dashboard = reverse("dashboard:index")
    if request.user.is_active and request.user.is_staff:
        return HttpResponseRedirect(dashboard)
    return HttpResponseRedirect(f"{reverse('admin:login')}?{urlencode({'next': dashboard})}")
