"""`levity up` runs every process of the system in the foreground; `levity gateway` runs one gateway."""

from __future__ import annotations

import argparse
import errno
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PYTHON = sys.executable


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gateway"]:
        from gateway.cli import main as gateway_main

        gateway_main(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="levity", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("gateway", help="run one websocket gateway (see `levity gateway --help`)")
    up = sub.add_parser("up", help="run the whole system in the foreground")
    up.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    up.add_argument(
        "--port", type=int, default=9000, help="charge point websocket port (default %(default)s)"
    )
    up.add_argument(
        "--web-port", type=int, default=8000, help="admin/API port (default %(default)s)"
    )
    up.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="worker processes with a broker (default %(default)s)",
    )
    up.add_argument(
        "--ping-interval",
        type=float,
        default=0,
        help="websocket ping seconds, 0 = off (default %(default)s, as Grizzl-E needs)",
    )
    up.add_argument(
        "--flower",
        action="store_true",
        help="also run Flower (with a broker only; basic auth from $FLOWER_BASIC_AUTH)",
    )
    up.add_argument(
        "--flower-port", type=int, default=5555, help="Flower's port (default %(default)s)"
    )
    args = parser.parse_args(argv)
    sys.exit(up_command(args))


def _processes(
    args: argparse.Namespace, embedded: bool, *, state_dir: str
) -> list[tuple[str, list[str]]]:
    gateway_args = [
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--ping-interval",
        str(args.ping_interval),
        # Every handshake is checked by the workers (authorization keys, OCPP_UNKNOWN_CHARGE_POINTS):
        # measured ~15 ms once per connection, so a key set in the admin is never silently unused.
        "--authorize",
    ]
    web = [
        PYTHON,
        "-m",
        "gunicorn",
        "levity_backend.wsgi",
        "--bind",
        f"{args.host}:{args.web_port}",
        "--workers",
        "2",
        # Threads and a timeout above the API's longest wait (120 s): a command request
        # waits for the charger's answer in the web process.
        "--threads",
        "8",
        "--timeout",
        "150",
        "--access-logfile",
        "-",
    ]
    if embedded:
        # One process: gateway, worker thread and web app share the in-process transport, so
        # commands from the API or the admin reach the chargers without a broker.
        web_args = ["--web-host", args.host, "--web-port", str(args.web_port)]
        return [("levity", [PYTHON, "-m", "levity.embedded", *gateway_args, *web_args])]
    return [
        ("gateway", [PYTHON, "-m", "gateway", *gateway_args]),
        (
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "celery_app",
                "worker",
                "-Q",
                "cp.*",
                "-c",
                str(args.concurrency),
                "-l",
                "info",
            ],
        ),
        # Beat as its own process, not `worker -B`: the schedule must run exactly once however
        # many workers there are, and compose scales the worker service, not this one.
        # (levity.expire_stale_calls ends the calls a dead gateway can no longer report.)
        (
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "celery_app",
                "beat",
                "-l",
                "info",
                "-s",
                os.path.join(state_dir, "celerybeat-schedule"),
            ],
        ),
        ("web", web),
    ]


def up_command(args: argparse.Namespace) -> int:
    # AMQP_URL unset or empty: embedded defaults (in-process transport, SQLite unless
    # DATABASE_URL is set). With it, the production processes run against the real services.
    embedded = not os.environ.get("AMQP_URL")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
    env.setdefault("OCPP_GATEWAY_URL", f"ws://{args.host}:{args.port}/ocpp/")
    env["PYTHONUNBUFFERED"] = "1"
    if embedded:
        # Settings read an empty AMQP_URL as "no broker" (tasks run eagerly in-process), and an
        # empty REDIS_URL as "wait for command answers on the database".
        env["AMQP_URL"] = ""
        env.setdefault("REDIS_URL", "")

    taken = _taken_ports(args, embedded)
    for problem in taken:
        print(f"levity: {problem}", file=sys.stderr, flush=True)
    if taken:
        return 2
    # Settings and services checked (exit 2), then migrations applied, in a child: Django is
    # not imported in this supervisor.
    migrate = subprocess.run([PYTHON, "-m", "levity.preflight", "--migrate"], env=env, check=False)
    if migrate.returncode:
        return migrate.returncode
    admin_url = f"http://{args.host}:{args.web_port}/admin/"
    admin_login = _ensure_admin(env) if embedded else _CREATE_SUPERUSER_HINT

    # Beat's schedule file (last run times) lives as long as this run: the interval restarts.
    state = tempfile.TemporaryDirectory(prefix="levity-up-")
    # Workers and web share a prometheus-client multiprocess directory (README "Monitoring").
    metrics_dir = None if embedded else _metrics_dir(env)
    processes = _processes(args, embedded, state_dir=state.name)
    flower = _flower(args, env) if args.flower and not embedded else None
    if flower is not None:
        processes.append(("flower", flower[0]))
    children: list[tuple[str, subprocess.Popen]] = []
    for name, command in processes:
        child_env = _child_env(name, env, flower_auth=flower[1] if flower else "")
        children.append((name, subprocess.Popen(command, env=child_env, start_new_session=True)))

    mode = (
        "embedded defaults (one process, in-process transport, no broker)"
        if embedded
        else "AMQP_URL broker + Celery worker"
    )
    print(
        f"\nlevity is up on {mode}\n"
        f"  charge points connect to  ws://{args.host}:{args.port}/ocpp/<charge point id>\n"
        f"  admin                     {admin_url}{admin_login}\n"
        f"  simulator                 http://{args.host}:{args.web_port}/demo/ocpp/"
        "  (plug in a car, then watch it charge in the admin)\n"
        f"  dashboard                 http://{args.host}:{args.web_port}/dashboard/\n"
        f"  metrics (Prometheus)      http://{args.host}:{args.web_port}/metrics"
        f"  and the gateway's http://{args.host}:{args.port}/metrics\n"
        f"{_flower_banner(args, embedded, flower)}"
        "  stop with Ctrl+C (or SIGTERM)\n",
        flush=True,
    )
    try:
        return _supervise(children)
    finally:
        state.cleanup()
        if metrics_dir is not None:
            metrics_dir.cleanup()


def _taken_ports(args: argparse.Namespace, embedded: bool) -> list[str]:
    """One line per port this run needs that something else holds, naming the holder."""
    ports = [(args.port, "charge points", "--port"), (args.web_port, "admin/API", "--web-port")]
    if args.flower and not embedded:
        ports.append((args.flower_port, "Flower", "--flower-port"))
    found = []
    for port, purpose, option in ports:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As the servers bind: a port left in TIME_WAIT is free, a listening one is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((args.host, port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    found.append(
                        f"cannot listen on {args.host}:{port} ({purpose}): {error.strerror}"
                    )
                    continue
                found.append(
                    f"port {port} ({purpose}) on {args.host} is already in use by "
                    f"{_listener(port)}; stop it or choose another with {option}"
                )
    return found


def _listener(port: int) -> str:
    """`pid N (name)` of the process listening on `port`, from /proc (Linux), else a guess."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    # fields: local address (hex ip:port), remote, state (0A = LISTEN), ..., inode
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{fields[9]}]")
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    for pid in filter(str.isdigit, _listdir("/proc")):
        for fd in _listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    with open(f"/proc/{pid}/comm") as comm:
                        return f"pid {pid} ({comm.read().strip()})"
            except OSError:
                continue
    return "another process"


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


_CREATE_SUPERUSER_HINT = "  (first user: python manage.py createsuperuser)"


def _ensure_admin(env: dict[str, str]) -> str:
    """The banner's words after the admin URL. On the first run (no user in the database yet) a
    superuser `admin` with a random password is created and its login shown, this once; later
    runs name the command that resets it. Django runs in a child (`manage.py ensure_admin`),
    not in this supervisor."""
    found = subprocess.run(
        [PYTHON, "-m", "django", "ensure_admin", "--print-credentials"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        answer = json.loads(found.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"levity: ensure_admin failed:\n{found.stderr[-2000:]}", flush=True)
        return _CREATE_SUPERUSER_HINT
    if answer["created"]:
        user, indent = answer["username"], "\n" + " " * 28  # under the URL
        return (
            f"{indent}user {user}  password {answer['password']}  (created now, shown this once)"
            f"{indent}change it with: python manage.py changepassword {user}"
        )
    if answer["superuser"]:
        return f"  (forgot the password? python manage.py changepassword {answer['superuser']})"
    return _CREATE_SUPERUSER_HINT


class _MetricsDir:
    """PROMETHEUS_MULTIPROC_DIR for this run: the given one emptied, or a temporary one."""

    def __init__(self, path: str, *, temporary: bool) -> None:
        self.path, self._temporary = path, temporary

    def cleanup(self) -> None:
        if self._temporary:
            shutil.rmtree(self.path, ignore_errors=True)


def _metrics_dir(env: dict[str, str]) -> _MetricsDir:
    """Point the children at a multiprocess directory, emptied on start: files of an earlier
    run's processes would be added to this run's counters."""
    given = env.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        directory = _MetricsDir(given, temporary=False)
    else:
        directory = _MetricsDir(tempfile.mkdtemp(prefix="levity-metrics-"), temporary=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = directory.path
    return directory


def _child_env(name: str, env: dict[str, str], *, flower_auth: str) -> dict[str, str]:
    if name not in ("gateway", "flower", "levity"):
        return env
    # The gateway serves its own /metrics and Flower has its own: neither writes to the
    # workers' multiprocess directory. The embedded process (`levity`) needs none: its own
    # registry holds everything.
    child = {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if name == "flower":
        child["FLOWER_BASIC_AUTH"] = flower_auth  # Flower reads FLOWER_<OPTION> variables
    return child


def _flower(args: argparse.Namespace, env: dict[str, str]) -> tuple[list[str], str]:
    """Flower's command and its `user:password` ($FLOWER_BASIC_AUTH, else generated)."""
    auth = env.get("FLOWER_BASIC_AUTH", "").strip() or f"admin:{secrets.token_urlsafe(12)}"
    command = [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "celery_app",
        "flower",
        f"--address={args.host}",
        f"--port={args.flower_port}",
    ]
    return command, auth


def _flower_banner(
    args: argparse.Namespace, embedded: bool, flower: tuple[list[str], str] | None
) -> str:
    if flower is not None:
        user, _, password = flower[1].partition(":")
        return (
            f"  flower                    http://{args.host}:{args.flower_port}/"
            f"  (user {user}, password {password})\n"
            "                            task events are off (they cost throughput); to see\n"
            "                            tasks: celery -A celery_app control enable_events\n"
        )
    if embedded:
        return "  flower                    needs a broker (AMQP_URL): not started\n" * args.flower
    return "  flower                    levity up --flower (Celery monitor)\n"


def _supervise(children: list[tuple[str, subprocess.Popen]]) -> int:
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        for name, proc in children:
            if proc.poll() is not None:
                print(
                    f"levity: {name} exited with {proc.returncode}; stopping the rest", flush=True
                )
                code = proc.returncode or 1
                stopping = True
                break
        time.sleep(0.2)
    for _, proc in children:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for _, proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return code


if __name__ == "__main__":
    main()
