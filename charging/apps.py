"""App config: builds and validates the OCPP middleware pipeline, the admission policy and the validation mode at start-up."""

from django.apps import AppConfig


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
