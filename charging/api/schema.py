"""The API's OpenAPI schema generator: every endpoint's error answers declared where they occur."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import ocpp
from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from charging.commands.core import NO_NUL
from charging.protocol.validation import INTEGER_RANGE
from charging.services.outbound_actions import NOTHING, action_spec

# What DRF answers for authentication, permissions, unknown objects and pages, media types.
Detail = inline_serializer("Detail", {"detail": serializers.CharField()})

ERRORS = {
    "400": OpenApiResponse(
        OpenApiTypes.OBJECT, description="A query parameter or body field refused, by name"
    ),
    "401": OpenApiResponse(Detail, description="No user: a token or a session is needed"),
    "403": OpenApiResponse(Detail, description="The user lacks the model permission it needs"),
    "404": OpenApiResponse(Detail, description="No such object, or a page past the last"),
    "409": OpenApiResponse(Detail, description="Ruled out by what is stored (a duplicate)"),
    "415": OpenApiResponse(Detail, description="The body is not application/json"),
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus the errors DRF answers before or around a view's own: 401 and
    403 everywhere, 404 where a path names an object or a list is paged, 400 wherever a query
    or a body is read, 415 where a body is, 409 for the methods a view lists in
    `schema_conflicts`. A view's own declaration of a code wins."""

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema):
                schema["pattern"] = NO_NUL  # refused in paths and queries (views.NoNul)
        return operation

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF refuses NUL in every CharField (ProhibitNullCharactersValidator): say so.
        if (
            direction == "request"
            and isinstance(field, (serializers.CharField, serializers.SlugRelatedField))
            and not isinstance(field, serializers.RegexField)  # its own pattern comes later
            and schema.get("type") == "string"
            and not {"pattern", "enum", "format"} & set(schema)
        ):
            schema["pattern"] = NO_NUL
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = ["401", "403"]
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        if self.method != "DELETE":
            codes.append("400")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if self.method in getattr(self.view, "schema_conflicts", ()):
            codes.append("409")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ERRORS[code], code)
        return responses


class CallSchema(AutoSchema):
    """POST .../calls/<Action>/: one operation per action (a path each, charging/api/urls.py),
    whose body is that action's OCPP 1.6 request schema as the API takes it; parameters and
    responses from the view's `schema_parameters` and `schema_responses`."""

    def _action(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def get_request_serializer(self) -> Any:
        return {"application/json": call_request_schema(self._action())}

    def get_override_parameters(self) -> list[Any]:
        return list(self.view.schema_parameters)

    def get_response_serializers(self) -> Any:
        return dict(self.view.schema_responses)

    def get_operation_id(self) -> str:
        return f"charge_points_calls_{self._action()}"

    def _get_request_body(self, direction: Any = "request") -> Any:
        body = super()._get_request_body(direction)
        if body is not None:
            # No body is the empty payload: enough for actions without required fields.
            body["required"] = bool(call_request_schema(self._action()).get("required"))
        return body


OCPP16_SCHEMAS = Path(ocpp.__file__).parent / "v16" / "schemas"
# OCPP's JSON schemas are draft 4 documents; OpenAPI 3.0 takes their keywords but not these.
_NOT_OPENAPI = ("$schema", "id", "title")


@cache
def call_request_schema(action: str) -> dict[str, Any]:
    """The OCPP 1.6 schema of `action`'s CALL payload as the API takes it: 32-bit integers
    (charging.protocol.validation), no NUL in strings (PostgreSQL cannot store it), without the
    ids the API picks when left out (charging.services.outbound_actions: reservationId, requestId,
    chargingProfileId), and with the charging profile rules of charging.services."""
    # Read from the file, not ocpp's get_validator: that caches the first validator made, and
    # one made here with float numbers would break the Decimal validation of these payloads.
    with (OCPP16_SCHEMAS / f"{action}.json").open(encoding="utf-8") as file:
        schema = _inlined(json.load(file))
    start = action_spec(action).start
    _adapt(schema, profile_ids_optional=start.placeholders is not NOTHING.placeholders)
    if start.allocates in schema.get("required", []):
        schema["required"].remove(start.allocates)
    if action == "RemoteStartTransaction":
        profile = schema["properties"]["chargingProfile"]
        profile["properties"]["chargingProfilePurpose"]["enum"] = ["TxProfile"]
        del profile["properties"]["transactionId"]  # it has none yet
    if action == "SetChargingProfile":
        # A ChargePointMaxProfile on connectorId 0 only, a TxProfile never on 0 (OCPP 1.6 §5.16).
        def purposes(*names: str) -> dict[str, Any]:
            return {"properties": {"chargingProfilePurpose": {"enum": list(names)}}}

        schema["anyOf"] = [
            {
                "properties": {
                    "connectorId": {"enum": [0]},
                    "csChargingProfiles": purposes("ChargePointMaxProfile", "TxDefaultProfile"),
                }
            },
            {
                "properties": {
                    "connectorId": {"not": {"enum": [0]}},
                    "csChargingProfiles": purposes("TxProfile", "TxDefaultProfile"),
                }
            },
        ]
    return schema


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `#/definitions/...` references (security extension schemas) put in
    place: embedded in the OpenAPI document they would point nowhere."""
    definitions = schema.pop("definitions", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            return resolve(definitions[ref.removeprefix("#/definitions/")])
        return {key: resolve(value) for key, value in node.items()}

    return resolve(schema)


def _adapt(node: Any, *, profile_ids_optional: bool) -> None:
    if isinstance(node, list):
        for item in node:
            _adapt(item, profile_ids_optional=profile_ids_optional)
        return
    if not isinstance(node, dict):
        return
    for key in _NOT_OPENAPI:
        if isinstance(node.get(key), str):
            del node[key]
    if node.get("type") == "integer":
        node.setdefault("minimum", INTEGER_RANGE[0])
        node.setdefault("maximum", INTEGER_RANGE[1])
    if node.get("type") == "string" and "enum" not in node and "format" not in node:
        node["pattern"] = NO_NUL
    properties = node.get("properties")
    if profile_ids_optional and isinstance(properties, dict) and "chargingProfileId" in properties:
        node["required"] = [
            name for name in node.get("required", []) if name != "chargingProfileId"
        ]
    for value in node.values():
        _adapt(value, profile_ids_optional=profile_ids_optional)
