"""URLs of the HTTP API; a project mounts them with `path("api/v1/", include("charging.api.urls"))`."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from charging.commands import CENTRAL_SYSTEM_ACTIONS

from . import views

app_name = "charging-api"

router = DefaultRouter()
router.register("charge-points", views.ChargePointViewSet, basename="charge-point")
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("id-tags", views.IdTagViewSet, basename="id-tag")
router.register("calls", views.OutboundCallViewSet, basename="call")
router.register("reservations", views.ReservationViewSet, basename="reservation")
router.register("jobs", views.ChargerJobViewSet, basename="job")
router.register("webhooks", views.WebhookViewSet, basename="webhook")

# One path per action, so that the schema gives each its own body (charging/api/schema.py).
urlpatterns = [
    path(
        f"charge-points/<str:charge_point_id>/calls/{action}/",
        views.CallView.as_view(),
        {"action": action},
        name=f"charge-point-call-{action}",
    )
    for action in sorted(CENTRAL_SYSTEM_ACTIONS)
]
urlpatterns += [
    path(
        "charge-points/<str:charge_point_id>/calls/<str:action>/",
        views.UnknownCallView.as_view(),
        name="charge-point-call",
    ),
    path(
        "charge-points/<str:charge_point_id>/authorization-key/",
        views.AuthorizationKeyView.as_view(),
        name="charge-point-authorization-key",
    ),
    path(
        "charge-points/<str:charge_point_id>/local-list/",
        views.LocalListView.as_view(),
        name="charge-point-local-list",
    ),
    path(
        "charge-points/<str:charge_point_id>/charging-profiles/",
        views.ChargingProfileListView.as_view(),
        name="charge-point-charging-profiles",
    ),
    path(
        "charge-points/<str:charge_point_id>/approval/",
        views.ApprovalView.as_view(),
        name="charge-point-approval",
    ),
    path(
        "charge-points/<str:charge_point_id>/validation/",
        views.ValidationView.as_view(),
        name="charge-point-validation",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="charging-api:schema"), name="docs"),
    path("", include(router.urls)),
]
