"""Test settings: the project's settings against PostgreSQL unless DATABASE_URL says otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/levity")
# A RabbitMQ virtual host of this test run's own (tests/conftest.py creates and deletes it), so
# test runs side by side never consume each other's `cp.*` messages.
TEST_VHOST = f"levity-test-{os.getpid()}"
os.environ.setdefault("AMQP_URL", f"amqp://guest:guest@127.0.0.1:5672/{TEST_VHOST}")

from levity_backend.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",  # fast tests for user passwords
    # Authorization keys are always PBKDF2 (charging.admission.AuthorizationKeyHasher).
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
