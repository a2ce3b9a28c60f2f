"""/docs in real Chromium: every operation, its parameters with their descriptions, bodies expanded."""

from __future__ import annotations

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def document(api_only: str) -> dict:  # type: ignore[type-arg]
    return httpx.get(f"{api_only}/openapi.json").json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def docs_page(browser: webdriver.Chrome, api_only: str, document: dict) -> webdriver.Chrome:  # type: ignore[type-arg]
    operations = sum(len(ops) for ops in document["paths"].values())
    browser.get(f"{api_only}/docs")
    WebDriverWait(browser, 30).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) == operations
    )
    return browser


@pytest.fixture(scope="module")
def blocks(docs_page: webdriver.Chrome, document: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """Each operation's block text (as rendered: innerText) by operation id, read in one script call
    (a WebDriver read per block took about a second each)."""
    rendered: list[list[str]] = docs_page.execute_script(
        "return Array.from(document.querySelectorAll('.opblock[id]')).map(e => [e.id, e.innerText])"
    )
    by_id = dict((element_id, text) for element_id, text in rendered)
    ops = [op for ops in document["paths"].values() for op in ops.values()]
    return {
        op["operationId"]: by_id[f"operations-{op['tags'][0].replace(' ', '_')}-{op['operationId']}"]
        for op in ops
    }


def shown(text: str) -> str:
    """Text as the viewer shows it: markdown's backticks become code, not characters."""
    return text.replace("`", "")


def test_every_operation_is_shown_with_its_summary(blocks: dict[str, str], document: dict) -> None:  # type: ignore[type-arg]
    for path, ops in document["paths"].items():
        for op in ops.values():
            text = blocks[op["operationId"]]
            assert path in text
            assert shown(op["summary"]) in text.replace("`", "")


def test_every_parameter_is_shown_with_its_description(blocks: dict[str, str], document: dict) -> None:  # type: ignore[type-arg]
    params = [
        (op, p) for ops in document["paths"].values() for op in ops.values() for p in op.get("parameters", [])
    ]
    assert len(params) >= 8
    for op, param in params:
        text = blocks[op["operationId"]]
        assert param["name"] in text
        assert shown(param["description"]) in text


def test_request_bodies_show_their_schema_expanded(docs_page: webdriver.Chrome) -> None:
    body = docs_page.find_element(
        By.CSS_SELECTOR, "#operations-Jobs-jobs_create .opblock-section-request-body"
    ).text
    for shown in (
        "ImageJobCreate",
        "prompt",
        "what to draw",
        "[1, 2000] characters",
        "messages",
        "ChatJobCreate",
    ):
        assert shown in body
    assert "$ref" not in body


def test_the_page_loads_without_console_errors(docs_page: webdriver.Chrome) -> None:
    errors = [entry for entry in docs_page.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
