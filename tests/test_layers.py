"""Services and commands know neither Celery nor AMQP (charging.adapters carries them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSPORT = ("celery", "kombu", "amqp", "aio_pika", "django_celery_results", "tasks")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_services_commands_and_outcomes_import_no_transport():
    paths = [
        *(ROOT / "charging" / "services").glob("*.py"),
        *(ROOT / "charging" / "commands").glob("*.py"),
        ROOT / "charging" / "outcomes.py",
        ROOT / "charging" / "adapters.py",
    ]
    assert len(paths) > 20
    for path in paths:
        leaked = {name for name in _imports(path) if name.split(".")[0] in TRANSPORT}
        assert not leaked, f"{path.relative_to(ROOT)} imports {leaked}"
