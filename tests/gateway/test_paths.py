"""Which request paths name a charge point."""

from http import HTTPStatus

import pytest

from gateway.paths import BadPath, charge_point_id


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ocpp/CP-1", "CP-1"),
        ("/ws/CP-1", "CP-1"),
        ("/CP-1", "CP-1"),
        ("/ocpp/CP.1.2", "CP.1.2"),
        ("/ocpp/Z%C3%A4hler", "Zähler"),
        ("/ocpp/CP-1?token=x", "CP-1"),
        ("/ocpp/" + "x" * 48, "x" * 48),
    ],
)
def test_charge_point_id_is_url_decoded(path: str, expected: str) -> None:
    assert charge_point_id(path) == expected


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", HTTPStatus.NOT_FOUND),
        ("/a/b", HTTPStatus.NOT_FOUND),
        ("/static/app.js", HTTPStatus.NOT_FOUND),
        ("/ocpp/", HTTPStatus.BAD_REQUEST),
        ("/ocpp", HTTPStatus.BAD_REQUEST),
        ("/ocpp/a/b", HTTPStatus.BAD_REQUEST),
        ("/ocpp/a%2Fb", HTTPStatus.BAD_REQUEST),
        ("/ocpp/a%20b", HTTPStatus.BAD_REQUEST),
        ("/ocpp/a%09b", HTTPStatus.BAD_REQUEST),
        ("/ocpp/a%00b", HTTPStatus.BAD_REQUEST),
        ("/ocpp/%FF", HTTPStatus.BAD_REQUEST),
        ("/ocpp/" + "x" * 49, HTTPStatus.BAD_REQUEST),
    ],
)
def test_bad_paths_are_refused(path: str, status: HTTPStatus) -> None:
    with pytest.raises(BadPath) as raised:
        charge_point_id(path)
    assert raised.value.status == status
