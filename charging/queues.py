"""Webhook task and queue names, free of Django (celery_app.py imports them before set-up)."""

DELIVER_WEBHOOK_TASK = "levity.deliver_webhook"
DELIVER_DUE_WEBHOOKS_TASK = "levity.deliver_due_webhooks"
# Its own queue, never `cp.*`: a slow receiver must not sit in the chargers' route
# (celery_app.py makes `-Q cp.*` workers consume it too).
WEBHOOK_QUEUE = "levity.webhooks"
