"""`python manage.py ensure_admin`: a first superuser with a random password, on an empty user table."""

from __future__ import annotations

import json
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create a superuser (default `admin`) with a random password when the database has no "
        "user yet; otherwise change nothing. `levity up` runs it on embedded defaults."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="default %(default)s")
        parser.add_argument(
            "--print-credentials",
            action="store_true",
            help='print one JSON line: {"created": true, "username": ..., "password": ...}, or '
            '{"created": false, "superuser": <the first superuser\'s name, or null>}',
        )

    def handle(self, *args, **options):
        users = get_user_model()
        with transaction.atomic():
            # Locks nothing on an empty table; two concurrent first runs are not a case we serve.
            if users.objects.exists():
                created, password = False, ""
            else:
                password = secrets.token_urlsafe(12)
                users.objects.create_superuser(options["username"], password=password)
                created = True
        superuser = (
            users.objects.filter(is_superuser=True, is_active=True)
            .order_by("pk")
            .values_list(users.USERNAME_FIELD, flat=True)
            .first()
        )
        if options["print_credentials"]:
            answer = (
                {"created": True, "username": options["username"], "password": password}
                if created
                else {"created": False, "superuser": superuser}
            )
            self.stdout.write(json.dumps(answer))
        elif created:
            self.stdout.write(
                f"Created superuser {options['username']}; set its password with "
                f"`python manage.py changepassword {options['username']}`"
            )
        else:
            self.stdout.write("A user exists already: none created")
