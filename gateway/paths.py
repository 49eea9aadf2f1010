"""Which URL paths are charge point endpoints, and the charge point id they carry."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from charging.protocol.identity import InvalidChargePointId, charge_point_id_check

HEALTH_PATH = "/health"
# `/ocpp/<id>`, `/ws/<id>` and `/<id>`: chargers are configured with any of them.
PREFIXES = ("/ocpp/", "/ws/")
RESERVED = frozenset({"ocpp", "ws", "health"})


class BadPath(Exception):
    """A handshake to refuse with `status` (404 unknown path, 400 bad charge point id)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def charge_point_id(path: str) -> str:
    """The URL-decoded charge point id in a request path (query string ignored); raises BadPath."""
    path = urlsplit(path).path
    for prefix in PREFIXES:
        if path.startswith(prefix):
            raw = path[len(prefix) :]
            break
    else:
        raw = path[1:] if path.startswith("/") else ""
        if not raw or "/" in raw:
            raise BadPath(HTTPStatus.NOT_FOUND, "Unknown path; connect to /ocpp/<charge point id>")
        if raw in RESERVED:
            raise BadPath(HTTPStatus.BAD_REQUEST, "Missing charge point id")
    try:
        ident = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadPath(HTTPStatus.BAD_REQUEST, "Charge point id is not valid UTF-8") from None
    try:
        return charge_point_id_check(ident)
    except InvalidChargePointId as error:
        raise BadPath(HTTPStatus.BAD_REQUEST, str(error)) from None
