"""WSGI entry point: `gunicorn levity_backend.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
application = get_wsgi_application()
