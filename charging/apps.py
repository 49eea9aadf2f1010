"""App config: builds and validates the OCPP middleware pipeline, the admission policy and the validation mode at start-up."""

import logging

from django.apps import AppConfig

logger = logging.getLogger("charging")


class ChargingConfig(AppConfig):
    name = "charging"
    label = "charging"
    verbose_name = "Charging (OCPP 1.6J)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .admission import unknown_charge_point_policy
        from .middleware.pipeline import build_pipelines
        from .selectors import validation_mode_default

        # Fails with ImproperlyConfigured naming the bad OCPP_MIDDLEWARE entry.
        build_pipelines()
        unknown_charge_point_policy()  # ImproperlyConfigured for a bad OCPP_UNKNOWN_CHARGE_POINTS
        validation_mode_default()  # and for a bad OCPP_VALIDATION
        warn_if_chargers_connect_without_key()


def warn_if_chargers_connect_without_key() -> bool:
    """Every process of a production deployment says so when a charge point without a key may
    connect with nothing but its id (the first of the 2026 advisories against charging back
    ends): unless keys are required or OCPP_ALLOW_CHARGERS_WITHOUT_KEY says the fleet needs it."""
    from . import conf

    if conf.get("OCPP_REQUIRE_AUTHORIZATION_KEY") or conf.get("OCPP_ALLOW_CHARGERS_WITHOUT_KEY"):
        return False
    logger.warning(
        "SECURITY: charge points without an authorization key connect with nothing but their "
        "id (OCPP_REQUIRE_AUTHORIZATION_KEY is off). Require keys (docs/security.md), or set "
        "OCPP_ALLOW_CHARGERS_WITHOUT_KEY=true for chargers that cannot send one."
    )
    return True
