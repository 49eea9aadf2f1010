"""The transport alone: the project's Celery app with `levity.handle_frame` replaced by an
answer from memory (no database), for `--systems transport`.

    celery -A benchmarks.load.echo_worker worker -Q cp.* -c 2

Everything else is as in production: the gateway, RabbitMQ, the `cp.*` queue, acks_late,
prefetch 1, one task per frame, the reply published to the gateway's queue. A CALL is parsed
and its payload checked against the 1.6 schema, as the baseline does, then answered with what
the baseline answers. What this reaches is the ceiling of the design on the machine: the
throughput left once the database work is gone.
"""

from __future__ import annotations

from benchmarks.load.echo import answer
from celery_app import app
from charging.protocol import envelope as env
from tasks import replies

# Not the real tasks: the name below is ours here. This changes the app of the importing
# process, so only the worker imports this module (tests import benchmarks.load.echo).
app.conf.imports = []


@app.task(name=env.INBOUND_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def handle_frame(envelope: env.Inbound) -> None:
    replies.send(env.reply(envelope, send=answer(envelope)), reply_to=envelope["reply_to"])
