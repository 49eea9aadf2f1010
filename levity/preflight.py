"""`levity up`'s first step: settings complete and services reachable (one line each, exit 2), then migrations."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

CONNECT_TIMEOUT = 3.0


def masked(url: str) -> str:
    """`url` with its password replaced by `***`, to be shown in a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{netloc}"))


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200].rstrip(".")


def settings_problems(*, environ: dict[str, str]) -> list[str]:
    problems = []
    if environ.get("AMQP_URL"):
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not environ.get(name)]
        if missing:
            problems.append(
                f"AMQP_URL is set, so levity up runs the production processes, which also need "
                f"{' and '.join(missing)} (unset AMQP_URL for the embedded defaults)"
            )
    # DEBUG=false without SECRET_KEY: the settings refuse it themselves (main() says so).
    return problems


def database_problem() -> str | None:
    from django.db import connections

    connection = connections["default"]
    if connection.vendor == "sqlite":
        return None  # created on first use
    params = connection.settings_dict
    host, port, name = params.get("HOST") or "localhost", params.get("PORT") or 5432, params["NAME"]
    try:
        connection.ensure_connection()
    except Exception as error:  # noqa: BLE001 - any failure becomes the one line
        text = _first_line(error.__cause__ or error)
        if "does not exist" in text and f'"{name}"' in text:
            user = params.get("USER") or "postgres"
            return (
                f'database "{name}" does not exist on {host}:{port}; '
                f"create it with: createdb -h {host} -p {port} -U {user} {name}"
            )
        return f"cannot connect to the database (DATABASE_URL) on {host}:{port}: {text}"
    finally:
        connection.close()
    return None


def broker_problem(url: str) -> str | None:
    from kombu import Connection

    def connect() -> None:
        with Connection(url, connect_timeout=CONNECT_TIMEOUT) as connection:
            connection.connect()

    return _unreachable(connect, service="the broker", variable="AMQP_URL", url=url, fix="RabbitMQ")


def redis_problem(url: str) -> str | None:
    import redis

    def ping() -> None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
        )
        with client:
            client.ping()

    return _unreachable(ping, service="Redis", variable="REDIS_URL", url=url, fix="Redis")


def _unreachable(
    check: Callable[[], None], *, service: str, variable: str, url: str, fix: str
) -> str | None:
    try:
        check()
    except Exception as error:  # noqa: BLE001 - any failure becomes the one line
        return (
            f"{service} ({variable}) at {masked(url)} is unreachable: {_first_line(error)}; "
            f"start {fix} or fix {variable}"
        )
    return None


def problems(*, environ: dict[str, str]) -> list[str]:
    """Every reason the system cannot start with these settings, each one line."""
    from django.conf import settings

    from charging import conf

    found = settings_problems(environ=environ)
    found.append(database_problem())
    if settings.AMQP_URL:
        found.append(broker_problem(settings.CELERY_BROKER_URL))
    if redis_url := conf.get("REDIS_URL"):
        found.append(redis_problem(redis_url))
    return [problem for problem in found if problem]


def main(argv: list[str] | None = None) -> None:
    """Exit 2 after one line per problem; with `--migrate`, then apply the migrations (one
    Django start-up for both, which `levity up` waits for)."""
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:  # the settings refused the environment
        print(f"levity: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    found = problems(environ=dict(os.environ))
    for problem in found:
        print(f"levity: {problem}", file=sys.stderr, flush=True)
    if found:
        sys.exit(2)
    if "--migrate" in argv:
        from django.core.management import call_command

        print("levity: applying database migrations", flush=True)
        call_command("migrate", interactive=False, verbosity=0)


if __name__ == "__main__":
    main()
