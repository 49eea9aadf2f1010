"""`levity up` with a busy port, a missing database or an unreachable broker or Redis says so in
one line, before any banner, and exits 2."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from charging import conf
from levity.devstack import ROOT, free_port

pytestmark = pytest.mark.e2e


def levity_up(tmp_path: Path, *, port: int | None = None, **env: str) -> tuple[int, list[str]]:
    """Run `levity up` with `env` on top of a clean environment: its exit code and output lines."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AMQP_URL", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    levity = shutil.which("levity", path=os.path.dirname(sys.executable)) or "levity"
    command = [levity, "up", "--port", str(port or free_port()), "--web-port", str(free_port())]
    up = subprocess.Popen(
        command,
        env={**clean, "LEVITY_DATA_DIR": str(tmp_path), **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = up.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        up.terminate()  # levity up stops the processes it started, then itself
        output, _ = up.communicate(timeout=30)
        raise AssertionError(f"levity up started:\n{output[-3000:]}") from None
    return up.returncode, output.splitlines()


def assert_one_line(code: int, lines: list[str], *expected: str) -> None:
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("levity: ") and all(part in lines[0] for part in expected), lines


def test_a_port_in_use_is_named_with_its_holder(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, lines = levity_up(tmp_path, port=port)
    assert_one_line(code, lines, f"port {port} (charge points)", f"pid {os.getpid()}", "--port")


def test_a_missing_database_names_the_createdb_command(tmp_path):
    parts = urlsplit(os.environ["DATABASE_URL"])
    missing = urlunsplit(parts._replace(path="/levity_no_such_database"))
    code, lines = levity_up(tmp_path, DATABASE_URL=missing)
    assert_one_line(
        code,
        lines,
        'database "levity_no_such_database" does not exist',
        "createdb ",
        "levity_no_such_database",
    )


def test_an_unreachable_broker_is_named_before_any_banner(tmp_path):
    closed = free_port()
    code, lines = levity_up(
        tmp_path,
        AMQP_URL=f"amqp://guest:secret@127.0.0.1:{closed}//",
        # The maintenance database: it exists, so only the broker is wrong.
        DATABASE_URL=urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres")),
        REDIS_URL=conf.get("REDIS_URL"),
    )
    assert_one_line(code, lines, f"127.0.0.1:{closed}", "unreachable", "AMQP_URL")
    assert "secret" not in lines[0]


def test_an_unreachable_redis_is_named(tmp_path):
    closed = free_port()
    code, lines = levity_up(tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    assert_one_line(code, lines, f"redis://127.0.0.1:{closed}/0", "unreachable", "REDIS_URL")


def test_the_broker_alone_asks_for_the_other_services(tmp_path):
    code, lines = levity_up(tmp_path, AMQP_URL="amqp://guest:guest@127.0.0.1:5672//")
    assert_one_line(code, lines, "DATABASE_URL and REDIS_URL", "unset AMQP_URL")


def test_production_without_a_secret_key_is_refused(tmp_path):
    code, lines = levity_up(tmp_path, DEBUG="false", SECRET_KEY="")
    assert_one_line(code, lines, "SECRET_KEY is unset")
