"""Real Chromium (Debian's chromium and chromium-driver, driven by Selenium) against a real API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service as DriverService

from devtools.stack.deployment import Stack
from tests.fixtures.stacks import discard

# The flags a closed network needs: nothing phones home, nothing waits on an unreachable host.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2000",
]


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(
        f"none of {names} is installed: `make system-deps` installs chromium and chromium-driver"
    )


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the session, with an empty profile."""
    options = Options()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=DriverService(_binary("chromedriver")))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def api_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Redis and the API under gunicorn (no worker): the base URL."""
    stack = Stack(Path(tmp_path_factory.mktemp("browser-stack")))
    try:
        stack.start_redis()
        yield f"http://127.0.0.1:{stack.start_api().port}"
    finally:
        discard(stack)
