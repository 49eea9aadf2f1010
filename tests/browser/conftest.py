"""Browser tests: real headless Chromium (Selenium) against the web app served by gunicorn and
the real gateway + Celery worker of tests/e2e (`stack`, `e2e_db`: tests/e2e/fixtures.py)."""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from levity.devstack import PLAIN_HTTP_PRODUCTION, ROOT, Process, free_port, wait_until
from tests.e2e.fixtures import Stack, e2e_db, stack  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = "apt-get update && apt-get install -y chromium chromium-driver"


@dataclass
class Web:
    url: str  # http://127.0.0.1:<port>
    process: Process


def _page_served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def web(stack: Stack) -> Iterator[Web]:
    """The Django app under gunicorn, as in production (DEBUG off, static files by WhiteNoise),
    told where the test gateway is, as `levity up` tells it."""
    port = free_port()
    env = {
        **stack.env,
        **PLAIN_HTTP_PRODUCTION,
        "OCPP_GATEWAY_URL": f"ws://127.0.0.1:{stack.port}/ocpp/",
    }
    argv = [sys.executable, "-m", "gunicorn", "levity_backend.wsgi", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", "1", "--threads", "4", "--access-logfile", "-"]
    process = Process("gunicorn", argv, env, stack.tmp / "gunicorn.log").start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _page_served(f"{url}/demo/ocpp/"), timeout=30, what="gunicorn")
        yield Web(url, process)
    finally:
        process.stop()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go: $LEVITY_ARTIFACTS, else <repo>/artifacts/ (gitignored)."""
    path = Path(os.environ.get("LEVITY_ARTIFACTS") or ROOT / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Headless Chromium driven by Debian's chromedriver; a fresh profile per test."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: install them with `{INSTALL_HINT}`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's console
    service = Service(str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
