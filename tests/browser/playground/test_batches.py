"""The Batches panel: the key's batches from GET /v1/batches with their status and request_counts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.playground.deployment import Deployment
from tests.browser.playground.page import Page, attr
from tests.browser.playground.test_auth import give_key

pytestmark = pytest.mark.slow

ENDED = {"completed", "failed", "expired", "cancelled"}


def embed_line(custom_id: str, body: dict[str, Any]) -> bytes:
    line = {"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings", "body": body}
    return json.dumps(line).encode() + b"\n"


def run_batch(http: httpx.Client) -> dict[str, Any]:
    """A three-line embeddings batch (one line invalid) created through the API, once it has ended."""
    return until(http, create_batch(http), lambda batch: batch["status"] in ENDED)


def until(http: httpx.Client, batch_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The batch as the API shows it once `check` holds."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch: dict[str, Any] = http.get(f"/v1/batches/{batch_id}").json()
        if check(batch):
            return batch
        time.sleep(0.2)
    raise AssertionError(f"the batch never got there; last seen {batch}")


def create_batch(http: httpx.Client) -> str:
    """A three-line embeddings batch (one line invalid) created through the API: its id."""
    data = (
        embed_line("a", {"model": "all-MiniLM-L6-v2", "input": "a cat"})
        + embed_line("b", {"model": "all-MiniLM-L6-v2", "input": "a kitten"})
        + embed_line("bad", {"model": "all-MiniLM-L6-v2"})  # no input: the error file
    )
    uploaded = http.post("/v1/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", data)})
    assert uploaded.status_code == 200, uploaded.text
    body = {"input_file_id": uploaded.json()["id"], "endpoint": "/v1/embeddings", "completion_window": "24h"}
    created = http.post("/v1/batches", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def test_the_batches_panel_shows_the_key_s_batch_with_its_counts(
    secure_page: Page, deployment: Deployment
) -> None:
    key = deployment.new_key("batches-panel")
    with httpx.Client(
        base_url=deployment.secure_url, timeout=90, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        batch = run_batch(http)
    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 3, "completed": 2, "failed": 1}

    secure_page.open()
    panel = secure_page.testid("batches")
    state = panel.find_element(By.CLASS_NAME, "batches-state")
    assert state.text == "Waiting for a key."  # no call without a key, as the other panels
    give_key(secure_page, key)
    row = secure_page.wait(
        lambda: panel.find_element(By.CSS_SELECTOR, f'[data-batch-id="{batch["id"]}"]'),
        what="the batch's row",
    )
    assert row.find_element(By.CLASS_NAME, "status").text == "completed"
    assert "embeddings" in row.text
    assert row.find_element(By.CLASS_NAME, "counts").text.startswith("3 of 3 done, 1 failed")
    bar = row.find_element(By.TAG_NAME, "progress")
    assert (attr(bar, "value"), attr(bar, "max")) == ("3", "3")
    assert attr(bar, "aria-label") == f"Progress of batch {batch['id']}"
    listed = [r for r in secure_page.requests() if "/v1/batches?limit=" in r["url"]]
    assert listed, "the panel never listed the batches"
    assert all(r["headers"].get("Authorization") == f"Bearer {key}" for r in listed)  # the key given
    secure_page.assert_clean()


def test_another_key_does_not_see_the_batch(secure_page: Page, deployment: Deployment) -> None:
    owner, other = deployment.new_key("batches-owner"), deployment.new_key("batches-other")
    with httpx.Client(
        base_url=deployment.secure_url, timeout=90, headers={"Authorization": f"Bearer {owner}"}
    ) as http:
        batch = run_batch(http)
    secure_page.open()
    give_key(secure_page, other)
    state = secure_page.testid("batches").find_element(By.CLASS_NAME, "batches-state")
    secure_page.wait(lambda: state.text == "No batches yet.", what="the empty list")
    assert batch["id"] not in secure_page.testid("batches").get_attribute("innerHTML")


def test_the_panel_follows_a_running_batch_until_it_completes(page: Page, deployment: Deployment) -> None:
    held = deployment.hold_worker()  # the batch's embeddings wait behind it
    batch_id = create_batch(deployment.http)
    seen = until(
        deployment.http, batch_id, lambda b: b["request_counts"] == {"total": 3, "completed": 0, "failed": 1}
    )
    assert seen["status"] == "in_progress"

    page.open()
    panel = page.testid("batches")
    row = page.wait(
        lambda: panel.find_element(By.CSS_SELECTOR, f'[data-batch-id="{batch_id}"]'), what="the row"
    )
    assert row.find_element(By.CLASS_NAME, "status").text == "in_progress"
    assert row.find_element(By.CLASS_NAME, "counts").text.startswith("1 of 3 done, 1 failed")
    bar = row.find_element(By.TAG_NAME, "progress")
    assert (attr(bar, "value"), attr(bar, "max")) == ("1", "3")

    assert deployment.http.post(f"/v1/jobs/{held}/cancel").status_code == 200
    status = f'[data-batch-id="{batch_id}"] .status'
    page.wait(
        lambda: panel.find_element(By.CSS_SELECTOR, status).text == "completed", what="the completed batch"
    )
    counts = panel.find_element(By.CSS_SELECTOR, f'[data-batch-id="{batch_id}"] .counts').text
    assert counts.startswith("3 of 3 done, 1 failed")  # the page updated itself, no reload
    page.assert_clean()
