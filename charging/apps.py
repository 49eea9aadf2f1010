"""App config: builds and validates the OCPP middleware pipeline at start-up."""

from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "charging"
    label = "charging"
    verbose_name = "Charging (OCPP 1.6J)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .middleware.pipeline import build_pipelines

        # Fails with ImproperlyConfigured naming the bad OCPP_MIDDLEWARE entry.
        build_pipelines()
