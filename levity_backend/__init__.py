"""The Django project that hosts the `charging` app."""

# The Celery app is the current app wherever Django runs (web, worker, tests), so commands
# enqueued from a web process use its broker and result backend (cookiecutter-django pattern).
from celery_app import app as celery_app

__all__ = ["celery_app"]
