"""Pages of the charging app; the charge point simulator comes in a later issue."""

from django.http import HttpRequest, HttpResponse


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "Levity OCPP 1.6J central system. The charge point simulator comes later.",
        content_type="text/plain; charset=utf-8",
    )
