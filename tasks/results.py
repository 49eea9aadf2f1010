"""A command's outcome mirrored as its `levity.send_call` task's result (django-celery-results),
and the enqueueing of that task: the Celery side of charging.adapters, wired by celery_app."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from celery import current_app

from charging.protocol import envelope as env

if TYPE_CHECKING:
    from charging.models import OutboundCall


def call_outcome(call: OutboundCall) -> dict[str, Any]:
    """The JSON outcome of a command, as its task's stored result."""
    return {
        "status": call.status,
        "charge_point": call.charge_point_id,
        "unique_id": call.unique_id,
        "action": call.action,
        "response": call.response,
        "error_code": call.error_code,
        "error_description": call.error_description,
    }


def store_task_result(call: OutboundCall) -> None:
    """Keep the call's current outcome as its command task's result.

    Always state SUCCESS: the task did its job (handing the CALL over); what the charger made of
    it is `result["status"]`. Run inside the services' transaction, under the charge point's
    lock (charging.adapters), so a fast answer's outcome is never overwritten by the task's
    `sent`.
    """
    if not call.task_id:
        return
    # A request-like object, so the row keeps the task's name and arguments (result_extended).
    request = SimpleNamespace(
        id=call.task_id,
        task=env.SEND_CALL_TASK,
        args=[call.pk],
        kwargs={},
        argsrepr=repr((call.pk,)),
        kwargsrepr="{}",
        hostname=None,
        children=[],
        meta={},
        periodic_task_name=None,
        ignore_result=False,
    )
    current_app.backend.store_result(call.task_id, call_outcome(call), "SUCCESS", request=request)


def enqueue_send(call_id: int, charge_point_id: str, task_id: str) -> None:
    """Enqueue `levity.send_call` for the recorded call, on the ordered route the workers
    consume (`cp.*`), keyed like the charge point's events."""
    options = {"task_id": task_id, "routing_key": env.routing_key(charge_point_id)}
    if not current_app.conf.task_always_eager:
        # By name: a web process need not import every task module (~0.2 s on its first command).
        current_app.send_task(env.SEND_CALL_TASK, args=(call_id,), **options)
        return
    if env.SEND_CALL_TASK not in current_app.tasks:
        # Eager mode (embedded) runs the task itself, whose module a web process has not loaded.
        current_app.loader.import_default_modules()
    current_app.tasks[env.SEND_CALL_TASK].apply_async(args=(call_id,), **options)
