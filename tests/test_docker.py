"""The compose file is valid (`docker compose config`; no engine runs on CI machines)."""

import shutil
import subprocess
from pathlib import Path

COMPOSE = Path(__file__).resolve().parents[1] / "docker" / "compose.yaml"


def compose_command() -> list[str]:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, (
        "install `docker compose` or Debian's `docker-compose` (.ci/run does) to check docker/compose.yaml"
    )
    return [legacy]


def test_compose_file_is_valid_and_runs_every_service():
    result = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE), "config", "--services"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {
        "rabbitmq",
        "postgres",
        "redis",
        "web",
        "gateway",
        "worker",
        "beat",
        "flower",
    }
