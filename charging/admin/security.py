"""Admin of security events (security extension): critical ones stand out."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from ..models import InstalledCertificate, SecurityEvent
from .base import ReadOnlyAdmin, _badge

CRITICAL_COLOUR = "#ba2121"
OTHER_COLOUR = "#616161"


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "charge_point", "type_badge", "tech_info", "timestamp")
    list_filter = ("critical",)
    search_fields = ("=charge_point__id", "type", "tech_info")
    list_select_related = ("charge_point",)
    readonly_fields = tuple(field.name for field in SecurityEvent._meta.fields)

    @admin.display(description="type", ordering="type")
    def type_badge(self, event: SecurityEvent) -> SafeString:
        if event.critical:
            return _badge(event.type, CRITICAL_COLOUR, "critical security event")
        return _badge(event.type, OTHER_COLOUR)


@admin.register(InstalledCertificate)
class InstalledCertificateAdmin(ReadOnlyAdmin):
    """What the charge points hold, as their last GetInstalledCertificateIds and our accepted
    InstallCertificate / DeleteCertificate calls said."""

    list_display = ("charge_point", "certificate_type", "serial_number", "updated_at")
    list_filter = ("certificate_type",)
    search_fields = ("=charge_point__id", "serial_number")
    readonly_fields = tuple(field.name for field in InstalledCertificate._meta.fields)
