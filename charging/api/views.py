"""Views of the HTTP API: thin, reading through `charging.selectors` and sending through `charging.commands`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from charging import admission, commands, selectors, services
from charging.models import (
    ChargePoint,
    ChargerJob,
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    IdTag,
    JobKind,
    OutboundCall,
    OutboundCallStatus,
    Reservation,
    ReservationStatus,
    Transaction,
    Webhook,
)

from . import serializers
from .permissions import ModelPermissions
from .schema import AutoSchema, CallSchema

DEFAULT_WAIT = 30.0
# A web worker is held for the whole wait; keep it well under the server's request timeout.
MAX_WAIT = 120.0

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _charge_point_or_404(charge_point_id: str) -> ChargePoint:
    charge_point = selectors.charge_point_get(charge_point_id=charge_point_id)
    if charge_point is None:
        raise NotFound("No such charge point.")
    return charge_point


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        # Refused, not silently replaced by the default or the maximum: the schema's bounds.
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= 500:
            raise ValidationError({self.page_size_query_param: "A whole number from 1 to 500."})
        return int(values[0])

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class NoNul:
    """400 for a NUL character in the path or the query: PostgreSQL cannot even look it up."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        texts = [request.path]
        for key, values in request.query_params.lists():
            texts += [key, *values]
        if any("\x00" in text for text in texts):
            raise ParseError("No NUL characters in the path or the query.")


class APIMixin(NoNul):
    # Explicit, so a project whose DRF default is AllowAny does not expose chargers' commands.
    permission_classes = [ModelPermissions]
    pagination_class = Pagination
    parser_classes = [JSONParser]
    schema = AutoSchema()


def _bool_param(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValidationError({name: "Use true or false."})


def _str_param(request: Request, name: str, choices: list[str] | None = None) -> str | None:
    value = request.query_params.get(name)
    if value is not None and choices is not None and value not in choices:
        raise ValidationError({name: f"One of {', '.join(choices)}."})
    return value or None


class ChargePointViewSet(APIMixin, viewsets.ReadOnlyModelViewSet):
    """Charge points with their connectors, connection state and what their last boot reported."""

    permission_model = ChargePoint

    serializer_class = serializers.ChargePointSerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet:
        return selectors.charge_point_list()


@extend_schema(
    parameters=[
        OpenApiParameter("charge_point", str, description="Only this charge point's"),
        OpenApiParameter("active", bool, description="true: still open; false: stopped"),
    ]
)
class TransactionViewSet(APIMixin, viewsets.ReadOnlyModelViewSet):
    """Transactions, newest first; the detail adds the meter values."""

    permission_model = Transaction
    lookup_value_regex = "[^/]+"  # any id reaches the view: a JSON 404, not HTML

    def get_queryset(self) -> QuerySet:
        return selectors.transaction_list(
            charge_point_id=_str_param(self.request, "charge_point"),
            active=_bool_param(self.request, "active"),
        )

    def get_serializer_class(self) -> type[serializers.TransactionSerializer]:
        if self.action == "retrieve":
            return serializers.TransactionDetailSerializer
        return serializers.TransactionSerializer


class IdTagViewSet(APIMixin, viewsets.ModelViewSet):
    """Id tags (RFID cards, app tokens), addressed by their idTag value."""

    permission_model = IdTag

    serializer_class = serializers.IdTagSerializer
    lookup_field = "id_tag"
    lookup_value_regex = "[^/]+"
    schema_conflicts = ("POST", "PATCH")  # the same idTag again; a tag its own parent
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.id_tag_list()

    def get_object(self) -> Any:
        # IdToken is case insensitive (OCPP 1.6 IdToken type).
        id_tag = selectors.id_tag_get(id_tag=self.kwargs["id_tag"])
        if id_tag is None:
            raise NotFound()
        self.check_object_permissions(self.request, id_tag)
        return id_tag

    # Through the local list's services, so chargers get the change at their next sync.
    def perform_create(self, serializer: serializers.IdTagSerializer) -> None:
        serializer.instance = services.id_tag_save(id_tag=IdTag(**serializer.validated_data))

    def perform_update(self, serializer: serializers.IdTagSerializer) -> None:
        id_tag = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(id_tag, name, value)
        services.id_tag_save(id_tag=id_tag)

    def perform_destroy(self, instance: IdTag) -> None:
        services.id_tag_delete(id_tag=instance)


@extend_schema(
    parameters=[
        OpenApiParameter("charge_point", str, description="Only this charge point's"),
        OpenApiParameter("status", str, enum=OutboundCallStatus.values),
        OpenApiParameter("action", str, description="OCPP action, e.g. Reset"),
        OpenApiParameter("unique_id", str, description="The OCPP-J message id"),
    ]
)
class OutboundCallViewSet(APIMixin, viewsets.ReadOnlyModelViewSet):
    """Calls sent to charge points, newest first. `{id}` is the call's integer `id`; filter by the
    OCPP-J message id with `?unique_id=`."""

    permission_model = OutboundCall
    lookup_value_regex = "[^/]+"  # any id reaches the view: a JSON 404, not HTML

    serializer_class = serializers.OutboundCallSerializer
    queryset = OutboundCall.objects.none()  # for the schema; get_queryset is what runs

    def get_queryset(self) -> QuerySet:
        return selectors.outbound_call_list(
            charge_point_id=_str_param(self.request, "charge_point"),
            status=_str_param(self.request, "status", OutboundCallStatus.values),
            action=_str_param(self.request, "action"),
            unique_id=_str_param(self.request, "unique_id"),
        )


@extend_schema(
    parameters=[
        OpenApiParameter("charge_point", str, description="Only this charge point's"),
        OpenApiParameter("status", str, enum=ReservationStatus.values),
    ]
)
class ReservationViewSet(APIMixin, viewsets.ReadOnlyModelViewSet):
    """Reservations, newest first; `{id}` is the OCPP reservationId. Make one with
    `POST /charge-points/<id>/calls/ReserveNow/` (without `reservationId`, a new one is given),
    end one with `.../calls/CancelReservation/`."""

    permission_model = Reservation
    lookup_value_regex = "[^/]+"  # any id reaches the view: a JSON 404, not HTML

    serializer_class = serializers.ReservationSerializer
    queryset = Reservation.objects.none()  # for the schema; get_queryset is what runs

    def get_queryset(self) -> QuerySet:
        return selectors.reservation_list(
            charge_point_id=_str_param(self.request, "charge_point"),
            status=_str_param(self.request, "status", ReservationStatus.values),
        )


@extend_schema(
    parameters=[
        OpenApiParameter("charge_point", str, description="Only this charge point's"),
        OpenApiParameter("kind", str, enum=JobKind.values),
        OpenApiParameter("finished", bool, description="true: ended; false: still running"),
    ]
)
class ChargerJobViewSet(APIMixin, viewsets.ReadOnlyModelViewSet):
    """Firmware updates, diagnostics and log uploads asked of charge points, newest first, with
    every status they went through. Start one with `POST .../calls/UpdateFirmware/` (or
    GetDiagnostics, SignedUpdateFirmware, GetLog: without `requestId`, the job's id is sent)."""

    permission_model = ChargerJob
    lookup_value_regex = "[^/]+"  # any id reaches the view: a JSON 404, not HTML

    serializer_class = serializers.ChargerJobSerializer
    queryset = ChargerJob.objects.none()  # for the schema; get_queryset is what runs

    def get_queryset(self) -> QuerySet:
        return selectors.job_list(
            charge_point_id=_str_param(self.request, "charge_point"),
            kind=_str_param(self.request, "kind", JobKind.values),
            finished=_bool_param(self.request, "finished"),
        )


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=ChargingProfileStatus.values),
        OpenApiParameter("purpose", str, enum=ChargingProfilePurpose.values),
        OpenApiParameter(
            "connector_id",
            {"type": "integer", "minimum": 0},
            description="0: the whole charge point's",
        ),
    ]
)
class ChargingProfileListView(APIMixin, generics.ListAPIView):
    """The charging profiles sent to a charge point and what became of them, newest first
    (`?status=Installed`: what it holds as far as we know). Set one with `POST
    .../calls/SetChargingProfile/` (without `chargingProfileId`, the next free one is given),
    clear with `.../calls/ClearChargingProfile/`."""

    permission_model = ChargingProfile

    serializer_class = serializers.ChargingProfileSerializer
    queryset = ChargingProfile.objects.none()  # for the schema; get_queryset is what runs

    def get_queryset(self) -> QuerySet:
        charge_point_id = self.kwargs["charge_point_id"]
        _charge_point_or_404(charge_point_id)
        connector_id = self.request.query_params.get("connector_id")
        if connector_id is not None and not connector_id.isdigit():
            raise ValidationError({"connector_id": "A connector number."})
        return selectors.charging_profile_list(
            charge_point_id=charge_point_id,
            status=_str_param(self.request, "status", ChargingProfileStatus.values),
            purpose=_str_param(self.request, "purpose", ChargingProfilePurpose.values),
            connector_id=None if connector_id is None else int(connector_id),
        )


# Final (or still pending) status → HTTP status of POST .../calls/<Action>/.
_HTTP_STATUS = {
    OutboundCallStatus.ANSWERED: status.HTTP_200_OK,
    OutboundCallStatus.CALL_ERROR: status.HTTP_502_BAD_GATEWAY,
    OutboundCallStatus.TIMEOUT: status.HTTP_504_GATEWAY_TIMEOUT,
    OutboundCallStatus.OFFLINE: status.HTTP_409_CONFLICT,
    # Not answered within ?wait=: the call goes on; poll GET /calls/<id>/.
    OutboundCallStatus.QUEUED: status.HTTP_504_GATEWAY_TIMEOUT,
    OutboundCallStatus.SENT: status.HTTP_504_GATEWAY_TIMEOUT,
}

_ERRORS = {
    OutboundCallStatus.TIMEOUT: ("Timeout", "The charge point did not answer in time"),
    OutboundCallStatus.OFFLINE: ("Offline", "The charge point is not connected"),
    OutboundCallStatus.QUEUED: ("Pending", "No answer yet within ?wait=; poll the call"),
    OutboundCallStatus.SENT: ("Pending", "No answer yet within ?wait=; poll the call"),
}


def _error(code: str, description: str, details: dict | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "description": description}
    if details:
        error["details"] = details
    return error


def _command_failure(exc: commands.CommandError) -> tuple[dict[str, Any], int]:
    """A failed command's `error` object and HTTP status, the same for every endpoint."""
    if isinstance(exc, commands.InvalidCommand):
        return _error(exc.code, str(exc), exc.details), status.HTTP_400_BAD_REQUEST
    if isinstance(exc, commands.ChargePointOffline):
        offline = _ERRORS[OutboundCallStatus.OFFLINE][1]
        return _error("Offline", str(exc) or offline), status.HTTP_409_CONFLICT
    if isinstance(exc, commands.CallTimeout):
        timeout = _ERRORS[OutboundCallStatus.TIMEOUT][1]
        return _error("Timeout", str(exc) or timeout), status.HTTP_504_GATEWAY_TIMEOUT
    if isinstance(exc, commands.CallError):
        return _error(exc.code, exc.description, exc.details), status.HTTP_502_BAD_GATEWAY
    raise exc


def _outcome(call: OutboundCall | None, error: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = (
        dict(serializers.OutboundCallSerializer(call).data) if call is not None else {}
    )
    if error is not None:
        data["error"] = error
    return data


WAIT_SCHEMA = {"type": "number", "minimum": 0, "maximum": MAX_WAIT}


def _wait_param(request: Request) -> float:
    """`?wait=`, 0 to MAX_WAIT seconds; otherwise 400 with the documented `error` object."""
    values = request.query_params.getlist("wait")
    if not values or values == [""]:
        return DEFAULT_WAIT
    try:
        seconds = float(values[0]) if len(values) == 1 else -1.0
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT:
        description = f"?wait= is a number of seconds from 0 to {MAX_WAIT:g}"
        raise ValidationError({"error": _error("InvalidWait", description)})
    return seconds


class ChargePointWriteView(NoNul, APIView):
    """What changes a charge point or goes to it (commands, keys, approval): JSON bodies, and
    `change_chargepoint`, as the admin's actions need."""

    permission_classes = [ModelPermissions]
    permission_model = ChargePoint
    write_permission = "change"
    parser_classes = [JSONParser]  # an OCPP payload, as the spec spells it
    schema = AutoSchema()


class CallView(ChargePointWriteView):
    """Send an OCPP 1.6 CALL to a charge point and (by default) wait for its answer."""

    schema = CallSchema()  # one operation per action, its body the action's OCPP 1.6 schema

    # Read by CallSchema, which makes one operation per action.
    schema_parameters = [
        OpenApiParameter(
            "wait",
            WAIT_SCHEMA,
            description=f"Seconds to wait for the answer (default {DEFAULT_WAIT:g}, at most "
            f"{MAX_WAIT:g}); 0 answers 202 at once with the queued call",
        ),
    ]
    schema_responses = {
        200: OpenApiResponse(
            serializers.CallOutcomeSerializer, description="Answered: `response` holds it"
        ),
        202: OpenApiResponse(serializers.CallOutcomeSerializer, description="Queued (?wait=0)"),
        400: OpenApiResponse(
            serializers.CallErrorResponseSerializer,
            description="Unknown action, a payload its OCPP 1.6 schema refuses (`error.code` "
            "is the 1.6 error code) or a bad ?wait= (`InvalidWait`). Nothing was recorded",
        ),
        404: OpenApiResponse(description="No such charge point"),
        409: OpenApiResponse(
            serializers.CallOutcomeSerializer, description="The charge point is not connected"
        ),
        502: OpenApiResponse(
            serializers.CallOutcomeSerializer,
            description="The charge point answered CALLERROR; `error.code` is its code",
        ),
        504: OpenApiResponse(
            serializers.CallOutcomeSerializer,
            description="No answer in time: status `timeout`, or still `queued`/`sent` "
            "when ?wait= ran out first (poll GET /calls/{id}/)",
        ),
    }

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ParseError):  # the documented 400 body, not DRF's `detail`
            error = _error("FormationViolation", f"Malformed request: {exc.detail}")
            return Response({"error": error}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def post(self, request: Request, charge_point_id: str, action: str) -> Response:
        if not isinstance(request.data, dict):
            return Response(
                {"error": _error("FormationViolation", "The body must be a JSON object")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        seconds = _wait_param(request)
        _charge_point_or_404(charge_point_id)
        try:
            call = commands.send(
                charge_point_id,
                action,
                dict(request.data),
                requested_by=request.user.get_username(),
            )
            if seconds == 0:
                return Response(_outcome(call, None), status=status.HTTP_202_ACCEPTED)
            call = commands.wait(call, seconds)
        except commands.InvalidCommand as exc:  # nothing was recorded
            error, code = _command_failure(exc)
            return Response({"error": error}, status=code)
        except commands.CommandError as exc:
            error, code = _command_failure(exc)
            return Response(_outcome(exc.call, error), status=code)
        return Response(_outcome(call, _call_error(call)), status=_HTTP_STATUS[call.status])


class UnknownCallView(CallView):
    """POST .../calls/<anything else>/: answered 400 NotImplemented (or NotSupported for an
    action charge points send) like any refused call; not an operation of the schema."""

    @extend_schema(exclude=True)
    def post(self, request: Request, charge_point_id: str, action: str) -> Response:
        return super().post(request, charge_point_id, action)


def _call_error(call: OutboundCall) -> dict[str, Any] | None:
    if call.status == OutboundCallStatus.ANSWERED:
        return None
    if call.status == OutboundCallStatus.CALL_ERROR:
        return _error(call.error_code, call.error_description)
    return _error(*_ERRORS[call.status])


class LocalListView(ChargePointWriteView):
    """Bring a charge point's local authorization list up to date with the id tags
    (SendLocalList: the changes since the version it has, or the whole list)."""

    @extend_schema(
        operation_id="charge_points_local_list_sync",
        request=serializers.LocalListSyncRequestSerializer,
        parameters=[
            OpenApiParameter("wait", WAIT_SCHEMA, description="Seconds to wait for the answer")
        ],
        responses={
            200: serializers.LocalListSyncSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A body field or ?wait= refused, or longer than the charger's "
                "SendLocalListMaxLength",
            ),
            404: OpenApiResponse(description="No such charge point"),
            409: OpenApiResponse(description="The charge point is not connected"),
            502: OpenApiResponse(description="The charge point answered CALLERROR"),
            504: OpenApiResponse(description="No answer in time"),
        },
    )
    def post(self, request: Request, charge_point_id: str) -> Response:
        body = serializers.LocalListSyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        seconds = _wait_param(request) or DEFAULT_WAIT
        _charge_point_or_404(charge_point_id)
        try:
            sync = commands.sync_local_list(
                charge_point_id,
                full=body.validated_data["full"],
                wait=seconds,
                requested_by=request.user.get_username(),
            )
        except commands.CommandError as exc:
            error, code = _command_failure(exc)
        else:
            return Response(serializers.LocalListSyncSerializer(sync).data)
        return Response({"error": error}, status=code)


class AuthorizationKeyView(ChargePointWriteView):
    """A charge point's HTTP Basic password (security profile 1): only its hash is stored."""

    @extend_schema(
        operation_id="charge_points_authorization_key_set",
        request=serializers.AuthorizationKeyRequestSerializer,
        responses={
            200: serializers.AuthorizationKeyResponseSerializer,
            201: OpenApiResponse(
                serializers.AuthorizationKeyResponseSerializer,
                description="The charge point was not known: registered, approved, with this key",
            ),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A body field refused, e.g. an unusable key (16 to 40 characters)",
            ),
            404: OpenApiResponse(description="rotate: no such charge point"),
            409: OpenApiResponse(
                serializers.CallErrorResponseSerializer,
                description="rotate: not connected, or the charger did not answer Accepted "
                "(`error.code` KeyNotChanged, `error.status` its answer); the old key stays",
            ),
            502: OpenApiResponse(serializers.CallErrorResponseSerializer),
            504: OpenApiResponse(serializers.CallErrorResponseSerializer),
        },
    )
    def post(self, request: Request, charge_point_id: str) -> Response:
        data = serializers.AuthorizationKeyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data.get("key")
        rotate = data.validated_data["rotate"]
        created = selectors.charge_point_get(charge_point_id=charge_point_id) is None
        try:
            key = commands.authorization_key_apply(
                charge_point_id,
                key=given,
                rotate=rotate,
                wait=MAX_WAIT,
                requested_by=request.user.get_username(),
            )
        except commands.InvalidCommand as exc:
            raise ValidationError({"key": str(exc)}) from None
        except ValueError as error:
            # No charger could connect with this id (gateway/paths.py): no such charge point.
            raise NotFound(str(error)) from None
        except commands.KeyNotChanged as exc:
            error = _error("KeyNotChanged", str(exc))
            error["status"] = exc.status
            return Response({"error": error}, status=status.HTTP_409_CONFLICT)
        except commands.CommandError as exc:
            if rotate and created:  # nothing was sent: there is no such charge point to rotate
                raise NotFound("No such charge point.") from None
            error, code = _command_failure(exc)
            return Response({"error": error}, status=code)
        body: dict[str, Any] = {"charge_point": charge_point_id, "has_authorization_key": True}
        if given is None:
            body["key"] = key
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        operation_id="charge_points_authorization_key_delete",
        request=None,
        responses={204: None, 404: OpenApiResponse(description="No such charge point")},
    )
    def delete(self, request: Request, charge_point_id: str) -> Response:
        charge_point = _charge_point_or_404(charge_point_id)
        admission.authorization_key_set(charge_point=charge_point, key=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApprovalView(ChargePointWriteView):
    """Admit a charge point (BootNotification Accepted from its next boot, asked for at once
    when it is connected), or withdraw it."""

    @extend_schema(
        operation_id="charge_points_approval",
        request=serializers.ApprovalSerializer,
        responses={200: serializers.ChargePointSerializer, 404: OpenApiResponse()},
    )
    def post(self, request: Request, charge_point_id: str) -> Response:
        data = serializers.ApprovalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        charge_point = _charge_point_or_404(charge_point_id)
        admission.charge_point_approve(
            charge_point=charge_point,
            approved=data.validated_data["approved"],
            requested_by=request.user.get_username(),
        )
        charge_point = selectors.charge_point_get(charge_point_id=charge_point_id)
        return Response(serializers.ChargePointSerializer(charge_point).data)


class ValidationView(ChargePointWriteView):
    """Validate a charge point's payloads strictly or leniently, or as OCPP_VALIDATION says."""

    @extend_schema(
        operation_id="charge_points_validation",
        request=serializers.ValidationSerializer,
        responses={200: serializers.ChargePointSerializer, 404: OpenApiResponse()},
    )
    def post(self, request: Request, charge_point_id: str) -> Response:
        data = serializers.ValidationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        charge_point = _charge_point_or_404(charge_point_id)
        services.charge_point_validation_set(
            charge_point=charge_point, mode=data.validated_data["mode"] or ""
        )
        return Response(serializers.ChargePointSerializer(charge_point).data)


class WebhookViewSet(
    APIMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Webhooks: each event they subscribe to is POSTed to their URL, signed with their secret
    (write-only), retried for up to a day, in order (docs/events.md). Their deliveries are in
    the admin."""

    permission_model = Webhook
    lookup_value_regex = "[^/]+"  # any id reaches the view: a JSON 404, not HTML

    serializer_class = serializers.WebhookSerializer
    queryset = Webhook.objects.none()  # for the schema; get_queryset is what runs

    def get_queryset(self) -> QuerySet:
        return selectors.webhook_list()

    def get_object(self) -> Any:
        webhook = selectors.webhook_get(webhook_id=self.kwargs["pk"])
        if webhook is None:
            raise NotFound()
        self.check_object_permissions(self.request, webhook)
        return webhook

    def perform_create(self, serializer: serializers.WebhookSerializer) -> None:
        serializer.instance = services.webhook_create(**serializer.validated_data)

    def perform_destroy(self, instance: Webhook) -> None:
        services.webhook_delete(webhook=instance)
