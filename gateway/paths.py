"""Which URL paths are charge point endpoints, and the charge point id they carry."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import unquote, urlsplit

MAX_ID_LENGTH = 48
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
    if not 1 <= len(ident) <= MAX_ID_LENGTH:
        raise BadPath(
            HTTPStatus.BAD_REQUEST, f"Charge point id must be 1-{MAX_ID_LENGTH} characters"
        )
    if "/" in ident or any(char.isspace() or not char.isprintable() for char in ident):
        raise BadPath(
            HTTPStatus.BAD_REQUEST,
            "Charge point id must not contain '/', spaces or control characters",
        )
    return ident
