"""WSGI entry point: `gunicorn levity_backend.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

from charging.tracing import WEB, tracing_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
tracing_setup(WEB)  # before the application loads its middleware (docs/tracing.md)
application = get_wsgi_application()


def _warm_up() -> None:
    """Load now what each process's first request would load, ~0.5 s during which its other
    requests wait too: the URLconf (the admin, the API and their imports) and the Redis client
    that commands wait on (created, not connected)."""
    from django.urls import get_resolver

    from charging.coordination import redis_client

    get_resolver().url_patterns  # noqa: B018 (the import is the point)
    redis_client(blocking=True)


_warm_up()
