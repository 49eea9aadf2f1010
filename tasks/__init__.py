"""Celery tasks: thin transport around `charging.dispatch`."""
