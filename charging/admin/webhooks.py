"""Admin of webhooks (edited here) and their deliveries (read-only, with "send again")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .. import services
from ..events import EVENT_NAMES
from ..models import Webhook, WebhookDelivery, WebhookDeliveryStatus
from .base import ReadOnlyAdmin, _badge

STATUS_COLOURS = {
    WebhookDeliveryStatus.PENDING: "#b8860b",
    WebhookDeliveryStatus.DELIVERED: "#2e7d32",
    WebhookDeliveryStatus.FAILED: "#ba2121",
}


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in EVENT_NAMES], widget=forms.CheckboxSelectMultiple
    )
    # Never shown again; left empty on a change, the stored one stays.
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, max_length=255
    )

    class Meta:
        model = Webhook
        fields = ["url", "events", "secret", "active", "description"]

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret:
            if self.instance.pk is None:
                raise forms.ValidationError("A secret is needed to sign the deliveries.")
            return self.instance.secret
        return secret


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("id", "url", "event_list", "active", "deliveries")
    list_filter = ("active",)
    search_fields = ("url", "description")

    @admin.display(description="events")
    def event_list(self, webhook: Webhook) -> str:
        return ", ".join(webhook.events)

    @admin.display(description="deliveries")
    def deliveries(self, webhook: Webhook) -> SafeString:
        url = reverse("admin:charging_webhookdelivery_changelist")
        return format_html('<a href="{}?webhook__id__exact={}">deliveries</a>', url, webhook.pk)


@admin.action(description="Send again", permissions=["resend"])
def send_again(
    modeladmin: WebhookDeliveryAdmin, request: HttpRequest, queryset: QuerySet[WebhookDelivery]
) -> None:
    count = 0
    for delivery in queryset.order_by("id"):
        services.webhook_delivery_resend(delivery=delivery)
        count += 1
    modeladmin.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "webhook",
        "event",
        "status_badge",
        "attempts",
        "response_code",
        "last_error",
        "next_attempt_at",
    )
    list_filter = ("status", "event", "webhook")
    search_fields = ("=event_id",)
    list_select_related = ("webhook",)
    readonly_fields = tuple(field.name for field in WebhookDelivery._meta.fields)
    actions = [send_again]

    @admin.display(description="status", ordering="status")
    def status_badge(self, delivery: WebhookDelivery) -> SafeString:
        return _badge(delivery.status, STATUS_COLOURS[WebhookDeliveryStatus(delivery.status)])

    def has_resend_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.has_perm("charging.change_webhook")
