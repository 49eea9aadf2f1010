"""WSGI entry point: `gunicorn levity_backend.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

from charging.tracing import WEB, tracing_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
tracing_setup(WEB)  # before the application loads its middleware (docs/tracing.md)
application = get_wsgi_application()
