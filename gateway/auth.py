"""Who may open a websocket: HTTP Basic credentials, client certificates and TLS (OCPP 1.6 security
whitepaper, profiles 1-3). Pure parsing and checks; the decision on credentials is the workers'."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic

REALM = "ocpp"
WWW_AUTHENTICATE = build_www_authenticate_basic(REALM)
# The subject's commonName in an RFC 2253/4514 DN (nginx `$ssl_client_s_dn`, HAProxy
# `%[ssl_c_s_dn]`) or in the legacy OpenSSL form `/C=DE/O=Acme/CN=CP-1`.
_CN = re.compile(r"(?:^|[,/])\s*CN\s*=\s*((?:\\.|[^,/+])*)", re.IGNORECASE)


@dataclass(frozen=True)
class Credentials:
    username: str
    # As websockets decodes it: UTF-8, any other byte as a surrogate escape (so the workers get
    # the exact bytes back with `.encode("utf-8", "surrogateescape")`).
    password: str


class Refusal(Exception):
    """A handshake to refuse with HTTP `status`; `reason` labels the refusal metric;
    `retry_after` (seconds) is sent as `Retry-After` when set."""

    def __init__(
        self, status: HTTPStatus | int, message: str, *, reason: str, retry_after: int = 0
    ) -> None:
        self.status = HTTPStatus(status)
        self.message = message
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(message)

    @property
    def asks_for_credentials(self) -> bool:
        return self.status == HTTPStatus.UNAUTHORIZED


def unauthorized(message: str) -> Refusal:
    return Refusal(HTTPStatus.UNAUTHORIZED, message, reason="unauthorized")


def basic_credentials(headers: Headers, *, charge_point_id: str) -> Credentials | None:
    """The request's HTTP Basic credentials, None without an `Authorization` header.

    Refuses (401) a header that is not well-formed Basic and a username other than the charge
    point id: the charge point SHALL use its identity as username (security whitepaper §2.1
    profile 1), so a mismatch is refused here without asking the workers.
    """
    values = headers.get_all("Authorization")
    if not values:
        return None
    if len(values) > 1:
        raise unauthorized("More than one Authorization header")
    try:
        username, password = parse_authorization_basic(values[0])
    except InvalidHeader:
        raise unauthorized("Unsupported credentials; use HTTP Basic") from None
    if username != charge_point_id:
        raise unauthorized("The username must be the charge point id")
    return Credentials(username, password)


def common_name(subject_dn: str) -> str | None:
    """The commonName of a certificate subject DN as proxies pass it, None when it has none."""
    match = _CN.search(subject_dn.strip())
    if match is None:
        return None
    return re.sub(r"\\(.)", r"\1", match.group(1)).strip() or None


def peer_common_name(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str | None:
    """The subject commonName of the client certificate verified on this TLS connection."""
    if ssl_object is None:
        return None
    certificate = ssl_object.getpeercert()
    if not certificate:
        return None
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def check_client_certificate(common_name: str | None, *, charge_point_id: str) -> None:
    """Security profile 3: the certificate must name the charge point (403 otherwise)."""
    if common_name is None:
        raise Refusal(HTTPStatus.FORBIDDEN, "Client certificate required", reason="client_cert")
    if common_name != charge_point_id:
        raise Refusal(
            HTTPStatus.FORBIDDEN,
            "The client certificate does not name this charge point",
            reason="client_cert",
        )


# TLS 1.2 suites (OpenSSL names): the four the security whitepaper requires of a central
# system (§2.3: TLS_ECDHE_ECDSA_WITH_AES_{128,256}_GCM_SHA{256,384}, TLS_RSA_WITH_AES_{128,256}_
# GCM_SHA{256,384}), forward-secret ones first, plus ECDHE-RSA for RSA certificates. The ECDSA
# ones need an ECDSA certificate, the RSA ones an RSA one: give both (`cert`, comma-separated).
# TLS 1.3 suites are OpenSSL's own and not affected.
TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    ]
)


def server_ssl_context(
    *, cert: str, key: str | None = None, client_ca: str | None = None
) -> ssl.SSLContext:
    """TLS for wss:// (security profile 2): TLS 1.2 or newer with the whitepaper's cipher
    suites; with `client_ca`, a client certificate signed by it is required (profile 3).

    `cert` (and `key`, when the keys are in files of their own) may list several files,
    comma-separated, one per key type: an RSA and an ECDSA certificate serve every required
    suite."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    certs = [part.strip() for part in cert.split(",") if part.strip()]
    keys = [part.strip() for part in key.split(",") if part.strip()] if key else []
    if keys and len(keys) != len(certs):
        raise ValueError("give one key file per certificate file (or none: keys in the certs)")
    for index, chain in enumerate(certs):
        context.load_cert_chain(chain, keys[index] if keys else None)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca)
    return context
