"""tasks.inbound: the task every gateway event becomes."""

from celery_app import app
from charging.protocol import envelope as env
from tasks.inbound import handle_gateway_event


def test_it_keeps_the_registered_name_that_messages_in_flight_carry():
    # Renaming it would strand the events queued during a rolling upgrade (docs/envelope.md).
    assert env.INBOUND_TASK == "levity.handle_frame"
    assert app.tasks[env.INBOUND_TASK].name == handle_gateway_event.name == "levity.handle_frame"
    assert app.tasks[env.INBOUND_TASK].run.__name__ == "handle_gateway_event"
