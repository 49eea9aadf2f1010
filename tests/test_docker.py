"""The compose file is valid (`docker compose config`; no engine runs on CI machines)."""

import os
import shutil
import subprocess
from pathlib import Path

COMPOSE = Path(__file__).resolve().parents[1] / "docker" / "compose.yaml"
SECRETS = {"SECRET_KEY": "s" * 50, "FLOWER_BASIC_AUTH": "ops:a-long-flower-password"}


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


def compose_config(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FLOWER_BASIC_AUTH"}}
    return subprocess.run(
        [*compose_command(), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env={**clean, **env},
    )


def test_compose_file_is_valid_and_runs_every_service():
    result = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE), "config", "--services"],
        capture_output=True,
        text=True,
        env={**os.environ, **SECRETS},
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


def test_compose_has_no_default_secrets():
    """Production must not start with a published SECRET_KEY or Flower password (issue 14, 7)."""
    for missing in SECRETS:
        result = compose_config(**{k: v for k, v in SECRETS.items() if k != missing})
        assert result.returncode != 0
        assert missing in result.stderr
    config = compose_config(**SECRETS)
    assert config.returncode == 0, config.stderr
    assert "change-me" not in config.stdout
    assert "ops:a-long-flower-password" in config.stdout
