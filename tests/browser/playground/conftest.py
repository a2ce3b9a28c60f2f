"""The playground in real Chromium against the real stack (see deployment.py); one stack for the package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver

from devtools import REPO
from devtools.stack.deployment import Stack
from tests.browser.playground.deployment import ADMIN_KEY, Deployment
from tests.browser.playground.page import Page
from tests.fixtures.stacks import discard


def _models() -> Path:
    """The small local models `make models` builds, built here if missing."""
    from worker.tinymodels.__main__ import main as build

    out = REPO / "var" / "models"
    assert build(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    models = _models()
    stack = Stack(tmp_path_factory.mktemp("playground"))
    worker_env = {
        "LLMB_IMAGE_MODEL": str(models / "tiny-sd"),
        "LLMB_CHAT_MODEL": str(models / "tiny-chat"),
        "LLMB_CHAT_PIPELINE": "tests.fixtures.pipelines:ScriptedChatPipeline",
        # One delivery at a time (a prefork pool process): a job behind a running one stays queued,
        # where the queue panel and the history's cancel find it.
        "LLMB_WORKER_POOL": "prefork",
    }
    try:
        stack.start_redis()
        open_api = stack.start_api()
        secure_api = stack.start_api(env={"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN_KEY})
        stack.start_worker(queues="image,chat,embed", env=worker_env, name="playground")
        stack.start_batches()  # the Batches panel's batches run
        open_url = f"http://127.0.0.1:{open_api.port}"
        secure_url = f"http://127.0.0.1:{secure_api.port}"
        with (
            httpx.Client(base_url=open_url, timeout=90) as http,
            httpx.Client(
                base_url=secure_url, timeout=90, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
            ) as admin,
        ):
            yield Deployment(open_url, secure_url, http, admin)
    finally:
        discard(stack)


def _page(browser: webdriver.Chrome, base: str) -> Iterator[Page]:
    page = Page(browser, base)
    page.collect()  # what earlier tests left in the logs is theirs
    browser.set_window_size(1200, 1000)
    try:
        yield page
    finally:
        if browser.current_url.startswith(base):
            browser.execute_script("sessionStorage.clear()")
        browser.get("about:blank")  # ends the page's streams before the logs are drained
        page.collect()
        browser.set_window_size(1280, 2000)  # the browser fixture's size, for the tests after these


@pytest.fixture
def page(browser: webdriver.Chrome, deployment: Deployment) -> Iterator[Page]:
    """The playground of the API with auth off, opened; every job left active is canceled after the test."""
    try:
        yield from _page(browser, deployment.open_url)
    finally:
        deployment.cancel_active()


@pytest.fixture
def secure_page(browser: webdriver.Chrome, deployment: Deployment) -> Iterator[Page]:
    """The playground of the API with auth on; sessionStorage (the key given) is cleared after the test."""
    yield from _page(browser, deployment.secure_url)
