"""`python manage.py consume_rpc_queue`: the seed's command, now an alias for the Celery worker."""

import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the Celery worker for charge point messages (same as `celery -A celery_app worker -Q cp.*`)."

    def add_arguments(self, parser):
        parser.add_argument("-c", "--concurrency", type=int, default=None, help="worker processes")
        parser.add_argument("-l", "--loglevel", default="info")

    def handle(self, *args, concurrency=None, loglevel="info", **options):
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "celery_app",
            "worker",
            "-Q",
            "cp.*",
            "-l",
            loglevel,
        ]
        if concurrency:
            argv += ["-c", str(concurrency)]
        # Replace this process: signals (SIGTERM from a supervisor) go straight to Celery.
        os.execv(sys.executable, argv)
