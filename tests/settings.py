"""Test settings: the project's settings against PostgreSQL unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/levity")
# Tests use the local broker unless AMQP_URL says otherwise.
os.environ.setdefault("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")

from levity_backend.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
