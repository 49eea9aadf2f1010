"""Which charge points may connect and be served: the handshake decision (HTTP Basic auth with a
per-charge-point authorization key, OCPP 1.6 security whitepaper profile 1), the policy for
unknown charge points, and operator approval (BootNotification Pending until approved)."""

from __future__ import annotations

import logging
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password, make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Min, QuerySet, Sum
from django.utils import timezone

from . import conf
from .models import ChargePoint, ConnectionEvent, RegistrationStatus
from .protocol.identity import charge_point_id_check

logger = logging.getLogger(__name__)

ACCEPT, PENDING, REJECT = "accept", "pending", "reject"
UNKNOWN_CHARGE_POINT_POLICIES = (ACCEPT, PENDING, REJECT)
# The configuration key through which the central system changes the key (whitepaper §3.1,
# "AuthorizationKey", write-only: never stored or shown in clear here).
AUTHORIZATION_KEY = "AuthorizationKey"
# Whitepaper: 16 to 40 characters (at most 20 bytes written as 40 hexadecimal digits).
MIN_KEY_LENGTH = 16
MAX_KEY_LENGTH = 40
# Printable ASCII without spaces: what HTTP Basic carries unambiguously (and the API's schema).
KEY_PATTERN = r"^[!-~]+$"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class AuthorizationKeyHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2-SHA256 with its own iteration count (OCPP_AUTHORIZATION_KEY_ITERATIONS).

    Every websocket connect checks the key once: at Django's 1,000,000 iterations a check costs
    ~0.25 s of worker CPU, so a gateway restart with 1,000 chargers would cost minutes. Keys
    are 16–40 characters, usually generated; the hash format is the standard `pbkdf2_sha256`
    one, so `check_password` verifies it wherever PBKDF2PasswordHasher is enabled.
    """

    def __init__(self) -> None:
        self.iterations = int(conf.get("OCPP_AUTHORIZATION_KEY_ITERATIONS"))


class InvalidAuthorizationKey(ValueError):
    """The key cannot be used (length, characters)."""


@dataclass(frozen=True)
class Admission:
    """The answer to a handshake: accept, or refuse with HTTP `status` and a short `reason`
    (429: retry after `retry_after` seconds). `authenticated`: accepted with the charge point's
    key, which lets it take over from an open connection of the same id (docs/gateway.md)."""

    accept: bool
    status: int = HTTPStatus.SWITCHING_PROTOCOLS
    reason: str = ""
    retry_after: int = 0
    authenticated: bool = False


def unknown_charge_point_policy() -> str:
    policy = str(conf.get("OCPP_UNKNOWN_CHARGE_POINTS")).strip().lower()
    if policy not in UNKNOWN_CHARGE_POINT_POLICIES:
        raise ImproperlyConfigured(
            f"OCPP_UNKNOWN_CHARGE_POINTS={policy!r}: use one of "
            f"{', '.join(UNKNOWN_CHARGE_POINT_POLICIES)}"
        )
    return policy


def approved_on_creation() -> bool:
    """Whether a charge point first seen now is approved: only under the `accept` policy."""
    return unknown_charge_point_policy() == ACCEPT


def registration_status(*, charge_point: ChargePoint) -> str:
    """What BootNotification answers: Accepted once approved; otherwise Rejected under the
    `reject` policy (it got in without the handshake check) and Pending under the others."""
    if charge_point.approved:
        return RegistrationStatus.ACCEPTED
    if unknown_charge_point_policy() == REJECT:
        return RegistrationStatus.REJECTED
    return RegistrationStatus.PENDING


# --- authorization keys ---------------------------------------------------------------------


def _canonical(secret: str) -> str:
    """One form for a key and for the password a charger sends.

    The whitepaper recommends a random binary key written in hexadecimal, and chargers differ in
    whether they then send those hex digits or the bytes they stand for: a hex key is kept as
    its lower-case digits, anything else as the hex of its bytes, so both match one hash.
    """
    if _HEX.fullmatch(secret):
        return secret.lower()
    return secret.encode("utf-8", "surrogateescape").hex()


def authorization_key_generate() -> str:
    """A new random key: 20 bytes as 40 hexadecimal digits (the whitepaper's maximum)."""
    return secrets.token_hex(20)


def authorization_key_validate(key: str) -> str:
    if not isinstance(key, str) or not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidAuthorizationKey(
            f"An authorization key has {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters"
        )
    if not re.fullmatch(KEY_PATTERN, key):
        raise InvalidAuthorizationKey(
            "An authorization key is printable ASCII without spaces or control characters"
        )
    return key


def _key_hash(key: str) -> str:
    return make_password(
        _canonical(authorization_key_validate(key)), hasher=AuthorizationKeyHasher()
    )


def authorization_key_set(*, charge_point: ChargePoint, key: str | None) -> ChargePoint:
    """Store the hash of `key` (Django's password hashers), or remove the key with None; a key
    held for a rotation of unknown outcome is dropped."""
    charge_point.authorization_key = "" if key is None else _key_hash(key)
    charge_point.authorization_key_pending = ""
    charge_point.save(update_fields=["authorization_key", "authorization_key_pending"])
    return charge_point


def authorization_key_hold(*, charge_point: ChargePoint, key: str) -> None:
    """A rotation to `key` ended without an answer (timeout, offline): the charger may have
    taken it or not, so both keys are accepted until it next authenticates with one of them."""
    try:
        pending = _key_hash(key)
    except InvalidAuthorizationKey:
        return  # the charger refuses such a key too
    ChargePoint.objects.filter(pk=charge_point.pk).update(authorization_key_pending=pending)
    logger.warning("%s: key rotation of unknown outcome: both keys accepted", charge_point.id)


def authorization_key_change_answered(
    *, charge_point: ChargePoint, key: str | None, accepted: bool
) -> None:
    """The charger's answer to a rotation. `key` None: the call had ended without an answer
    (its key redacted, held by `authorization_key_hold`) and this is its late answer."""
    charge_point.refresh_from_db(fields=["authorization_key", "authorization_key_pending"])
    if accepted and key is not None:
        authorization_key_set(charge_point=charge_point, key=key)
    elif accepted and charge_point.authorization_key_pending:
        _promote_pending(charge_point)
    elif key is None or _matches(key, charge_point.authorization_key_pending):
        # Refused: the charger keeps the key it has.
        ChargePoint.objects.filter(pk=charge_point.pk).update(authorization_key_pending="")


def _matches(password: str, encoded: str) -> bool:
    return bool(encoded) and check_password(_canonical(password), encoded)


def _promote_pending(charge_point: ChargePoint) -> None:
    charge_point.authorization_key = charge_point.authorization_key_pending
    charge_point.authorization_key_pending = ""
    charge_point.save(update_fields=["authorization_key", "authorization_key_pending"])


def authorization_key_check(*, charge_point: ChargePoint, password: str) -> bool:
    """Whether `password` (as sent in HTTP Basic) is the charge point's key."""
    if not charge_point.authorization_key:
        return False

    hasher = AuthorizationKeyHasher()

    def upgrade(raw: str) -> None:
        # The iteration count changed since the key was set: store it as configured now.
        encoded = make_password(raw, hasher=hasher)
        ChargePoint.objects.filter(pk=charge_point.pk).update(authorization_key=encoded)

    return check_password(
        _canonical(password), charge_point.authorization_key, setter=upgrade, preferred=hasher
    )


def charge_point_provision(*, charge_point_id: str, key: str | None = None) -> ChargePoint:
    """Register a charge point before it connects (needed under the `reject` policy): approved,
    with the key's hash when given. Raises InvalidChargePointId for an id no charger could
    connect with."""
    charge_point_id_check(charge_point_id)  # InvalidChargePointId, a ValueError
    with transaction.atomic():
        charge_point, _ = ChargePoint.objects.select_for_update().get_or_create(
            id=charge_point_id, defaults={"approved": True}
        )
        if key is not None:
            authorization_key_set(charge_point=charge_point, key=key)
    return charge_point


@dataclass(frozen=True)
class Approval:
    """What approving did besides the flag: `rebooting` when the connected charger was asked to
    boot again; `reboot_error` why it could not be (it is accepted at its next boot then)."""

    charge_point: ChargePoint
    rebooting: bool = False
    reboot_error: str = ""


def charge_point_approve(
    *, charge_point: ChargePoint, approved: bool = True, requested_by: str = ""
) -> Approval:
    """An operator admits (or no longer admits) the charge point; its next BootNotification is
    answered Accepted (or Pending/Rejected). The admin and the API both approve through here.

    A connected charger admitted while not Accepted is asked to boot again at once
    (TriggerMessage BootNotification, OCPP 1.6 §5.17), rather than after OCPP_PENDING_INTERVAL.
    """
    charge_point.approved = approved
    charge_point.save(update_fields=["approved"])
    if (
        not approved
        or not charge_point.connected
        or charge_point.registration_status == RegistrationStatus.ACCEPTED
    ):
        return Approval(charge_point)
    from . import commands

    try:
        commands.send(
            charge_point.id,
            "TriggerMessage",
            {"requestedMessage": "BootNotification"},
            requested_by=requested_by,
        )
    except commands.CommandError as error:
        return Approval(charge_point, reboot_error=str(error))
    return Approval(charge_point, rebooting=True)


# --- the handshake --------------------------------------------------------------------------


def handshake_admit(
    *,
    charge_point_id: str,
    username: str | None,
    password: str | None,
    remote: str = "",
    gateway_id: str = "",
) -> Admission:
    """Decide a websocket handshake (docs/envelope.md, `handshake`).

    Unknown charge point: refused (404) under the `reject` policy; under the others accepted
    (it is created when it connects) unless OCPP_REQUIRE_AUTHORIZATION_KEY, since it has no key
    to check. Known charge point with a key: the credentials must match (401 otherwise). Without
    a key: accepted unless OCPP_REQUIRE_AUTHORIZATION_KEY (credentials sent anyway are ignored).
    """
    charge_point = ChargePoint.objects.filter(id=charge_point_id).first()
    require_key = bool(conf.get("OCPP_REQUIRE_AUTHORIZATION_KEY"))
    if charge_point is None:
        if unknown_charge_point_policy() == REJECT:
            return Admission(False, HTTPStatus.NOT_FOUND, "Unknown charge point")
        if require_key:
            return Admission(False, HTTPStatus.UNAUTHORIZED, "No authorization key for this id")
        return Admission(True)
    if not charge_point.authorization_key:
        if require_key:
            return _refused(charge_point, "no authorization key set", remote, gateway_id)
        return Admission(True)
    if password is None or username != charge_point_id:
        # No event row: a charger first tries without credentials, as browsers do.
        return Admission(False, HTTPStatus.UNAUTHORIZED, "Credentials required")
    if wait := _failures_retry_after(charge_point=charge_point, host=_host(remote)):
        # Before the key's hash: a guesser costs one query per attempt, not a PBKDF2.
        logger.info("%s: handshake from %s throttled for %d s", charge_point.id, remote, wait)
        return Admission(
            False, HTTPStatus.TOO_MANY_REQUESTS, "Too many failed attempts", retry_after=wait
        )
    if authorization_key_check(charge_point=charge_point, password=password):
        if charge_point.authorization_key_pending:
            # The charger kept its key: the rotation of unknown outcome did not reach it.
            ChargePoint.objects.filter(pk=charge_point.pk).update(authorization_key_pending="")
        return Admission(True, authenticated=True)
    # The key may be changing under us: a rotation of unknown outcome, a pending change to this
    # key, or (read after it, so that one of the two sees the change whenever its answer
    # commits) the stored key again.
    if not (
        _took_held_key(charge_point=charge_point, password=password)
        or _took_pending_key(charge_point=charge_point, password=password)
        or _is_stored_key_now(charge_point=charge_point, password=password)
    ):
        return _refused(charge_point, "wrong authorization key", remote, gateway_id)
    return Admission(True, authenticated=True)


def _took_held_key(*, charge_point: ChargePoint, password: str) -> bool:
    """Whether `password` is the key of a rotation of unknown outcome (authorization_key_hold):
    the charger took it, and it becomes the charge point's key."""
    if not _matches(password, charge_point.authorization_key_pending):
        return False
    _promote_pending(charge_point)
    logger.info("%s: connected with the key of a rotation of unknown outcome", charge_point.id)
    return True


def _is_stored_key_now(*, charge_point: ChargePoint, password: str) -> bool:
    before = charge_point.authorization_key
    charge_point.refresh_from_db(fields=["authorization_key"])
    return charge_point.authorization_key != before and authorization_key_check(
        charge_point=charge_point, password=password
    )


def _took_pending_key(*, charge_point: ChargePoint, password: str) -> bool:
    """Whether `password` is the new key of a ChangeConfiguration AuthorizationKey still pending
    here; if so the charger took it, and it becomes the charge point's key.

    A charger that answers Accepted closes its connection and reconnects with the new key at
    once (whitepaper §3.1; OCTT TC_073 step 3). Its answer travels on the old connection's
    route and may still be on its way when this handshake is decided, or lose against the new
    connection's `connect`, which ends the old connection's calls `offline`: without this the
    charger would be refused with the key we gave it, and the key never stored.
    """
    from .selectors import authorization_key_changes_pending

    for change in authorization_key_changes_pending(charge_point=charge_point):
        new_key = str(change.payload.get("value", ""))
        if new_key and secrets.compare_digest(_canonical(new_key), _canonical(password)):
            authorization_key_set(charge_point=charge_point, key=new_key)
            logger.info("%s: connected with the key being set (%s)", charge_point.id, change)
            return True
    return False


def _host(remote: str) -> str:
    """`10.0.0.7` of `10.0.0.7:51234` (and `::1` of `::1:51234`): failures count per address."""
    return remote.rsplit(":", 1)[0] if ":" in remote else remote


def _recent_refusals(*, charge_point: ChargePoint, host: str) -> QuerySet[ConnectionEvent]:
    window = timedelta(seconds=float(conf.get("OCPP_AUTH_FAILURE_WINDOW")))
    return ConnectionEvent.objects.filter(
        charge_point=charge_point,
        kind=ConnectionEvent.Kind.REFUSED,
        remote=host[:255],
        at__gte=timezone.now() - window,
    )


def _failures_retry_after(*, charge_point: ChargePoint, host: str) -> int:
    """Seconds until this address may try again (the end of the window in which it used up
    OCPP_AUTH_FAILURES); 0: it may try now."""
    recent = _recent_refusals(charge_point=charge_point, host=host).aggregate(
        failures=Sum("count"), first=Min("at")
    )
    if (recent["failures"] or 0) < int(conf.get("OCPP_AUTH_FAILURES")):
        return 0
    window = float(conf.get("OCPP_AUTH_FAILURE_WINDOW"))
    left = (recent["first"] - timezone.now()).total_seconds() + window
    return max(1, math.ceil(left))


def _refused(charge_point: ChargePoint, why: str, remote: str, gateway_id: str) -> Admission:
    """401, kept in the charge point's connection events for its operator to see: one row per
    address and window, counting the attempts (a guesser does not write a row per try)."""
    logger.info("%s: handshake refused from %s: %s", charge_point.id, remote, why)
    host = _host(remote)
    counted = (
        _recent_refusals(charge_point=charge_point, host=host)
        .filter(reason=why)
        .order_by("-id")
        .values_list("pk", flat=True)[:1]
    )
    if not ConnectionEvent.objects.filter(pk__in=list(counted)).update(count=F("count") + 1):
        ConnectionEvent.objects.create(
            charge_point=charge_point,
            kind=ConnectionEvent.Kind.REFUSED,
            gateway_id=gateway_id[:255],
            remote=host[:255],
            close_code=HTTPStatus.UNAUTHORIZED,
            reason=why,
        )
    return Admission(False, HTTPStatus.UNAUTHORIZED, "Invalid credentials")
