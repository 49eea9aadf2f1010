"""Where the charging app meets the transport its process wires in (celery_app.py does, for
Celery): how a recorded command is enqueued, and who mirrors a call's outcome elsewhere.

Services and commands know neither Celery nor AMQP: the outcome lives on the OutboundCall, and
these hooks carry it on. Importable before Django's apps are ready.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .models import OutboundCall

logger = logging.getLogger(__name__)

# `(call id, charge point id, task id)`: hand the recorded call to whatever sends it.
CommandSender = Callable[[int, str, str], None]
# Called with a call whose outcome changed, inside its transaction, under the charge point's
# lock (so a mirror never overwrites a later outcome with an earlier one). Never fatal.
OutcomeMirror = Callable[["OutboundCall"], None]

# `(webhook id, countdown seconds)`: have that webhook's due deliveries sent. Must not block.
WebhookWaker = Callable[[int, float], None]

_sender: CommandSender | None = None
_mirrors: list[OutcomeMirror] = []
_webhook_waker: WebhookWaker | None = None


def set_command_sender(sender: CommandSender | None) -> None:
    global _sender
    _sender = sender


def command_send(*, call_id: int, charge_point_id: str, task_id: str) -> None:
    """Enqueue the sending of the recorded call `call_id` (run after commit)."""
    if _sender is None:
        raise ImproperlyConfigured(
            "no command sender: import celery_app (levity_backend does) or call "
            "charging.adapters.set_command_sender"
        )
    _sender(call_id, charge_point_id, task_id)


def mirror_outcomes(mirror: OutcomeMirror) -> None:
    """Have `mirror` told of every outcome (once, however often registered)."""
    if mirror not in _mirrors:
        _mirrors.append(mirror)


def outcome_changed(call: OutboundCall) -> None:
    for mirror in _mirrors:
        try:
            mirror(call)
        except Exception:
            logger.exception("mirroring the outcome of %s %s failed", call.action, call.unique_id)


def set_webhook_waker(waker: WebhookWaker | None) -> None:
    global _webhook_waker
    _webhook_waker = waker


def webhook_wake(*, webhook_id: int, countdown: float = 0.0) -> None:
    """Have the webhook's due deliveries sent in `countdown` seconds; without a waker wired in,
    beat's sweep (or the embedded process's) sends them."""
    if _webhook_waker is not None:
        _webhook_waker(webhook_id, countdown)
