"""The playground as the tests drive it: its panels and test ids, generous waits, the browser's logs."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from devtools import REPO

# The machine is shared and slow: waits are generous, and each one ends in an asserted outcome.
WAIT_S = 120
SCREENSHOTS = REPO / "docs" / "screenshots"
_REFUSED = "{url} - Failed to load resource: the server responded with a status of {status}"


def attr(element: WebElement, name: str) -> str:
    """An element's attribute, "" when it has none."""
    return element.get_attribute(name) or ""


class Page:
    """One test's view of the page at `base`, with everything the browser logged since it began."""

    def __init__(self, browser: webdriver.Chrome, base: str) -> None:
        self.browser, self.base = browser, base
        self.console: list[dict[str, Any]] = []
        self.network: list[dict[str, Any]] = []  # DevTools Network.* messages

    def open(self) -> None:
        """Load the playground and wait until its scripts have set it up."""
        self.collect()  # what came before (such as the browser's own start page) is not this page's
        self.console.clear()
        self.network.clear()
        self.browser.get(f"{self.base}/ui")
        tab = self.browser.find_element(By.ID, "tab-chat")
        self.wait(lambda: tab.get_attribute("tabindex") == "-1", what="the page's scripts")

    def wait(self, check: Callable[[], Any], *, timeout: float = WAIT_S, what: str = "the condition") -> Any:
        """The first truthy value of `check`, polled until `timeout`."""
        # A list the page rebuilt meanwhile leaves stale elements: the next poll finds them again.
        ignored = (NoSuchElementException, StaleElementReferenceException)
        waiting = WebDriverWait(self.browser, timeout, poll_frequency=0.1, ignored_exceptions=ignored)
        return waiting.until(lambda _: check(), f"{what} never came")

    def tab(self, name: str) -> WebElement:
        """Select the tab `name` (image, chat, embed) by clicking it; its panel."""
        self.browser.find_element(By.ID, f"tab-{name}").click()
        panel = self.browser.find_element(By.ID, f"panel-{name}")
        self.wait(panel.is_displayed, what=f"the {name} panel")
        return panel

    def testid(self, name: str, within: WebElement | None = None) -> WebElement:
        """The element with data-testid `name`, within `within` when given."""
        return (within or self.browser).find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')

    def testids(self, name: str, within: WebElement | None = None) -> list[WebElement]:
        """Every element with data-testid `name`."""
        return (within or self.browser).find_elements(By.CSS_SELECTOR, f'[data-testid="{name}"]')

    def click(self, selector: str) -> bool:
        """Click the element `selector` finds; True (a step for `wait`, which retries a stale one)."""
        self.browser.find_element(By.CSS_SELECTOR, selector).click()
        return True

    def fill(self, element: WebElement, text: str) -> None:
        """Replace a field's text as a user would."""
        element.clear()
        element.send_keys(text)

    def status(self, panel: WebElement) -> str:
        """The job status the panel shows."""
        return self.testid("job-status", panel).text

    def wait_status(self, panel: WebElement, *statuses: str) -> str:
        """Wait until the panel shows one of `statuses`; which one."""
        self.wait(lambda: self.status(panel) in statuses, what=f"a status in {statuses}")
        return self.status(panel)

    def natural_sizes(self, images: Iterable[WebElement]) -> list[tuple[int, int]]:
        """Each loaded image's size in pixels ((0, 0) until it has loaded)."""
        script = (
            "return arguments[0].complete ? [arguments[0].naturalWidth, arguments[0].naturalHeight] : [0, 0]"
        )
        return [tuple(self.browser.execute_script(script, image)) for image in images]

    def collect(self) -> None:
        """Move what the browser logged since the last call into `console` and `network`."""
        self.console += self.browser.get_log("browser")
        for entry in self.browser.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"].startswith("Network."):
                self.network.append(message)

    def requests(self) -> list[dict[str, Any]]:
        """Every request the page's documents sent so far (DevTools' request objects: url, headers...)."""
        self.collect()
        return [
            m["params"]["request"]
            for m in self.network
            if m["method"] == "Network.requestWillBeSent" and m["params"]["documentURL"].startswith(self.base)
        ]

    def assert_clean(self, *, refused: Iterable[tuple[str, int]] = ()) -> None:
        """No console error but the refusals the test provoked ((path, status)); no host but the API's."""
        self.collect()
        expected = [_REFUSED.format(url=f"{self.base}{path}", status=status) for path, status in refused]
        errors = [
            e
            for e in self.console
            if e["level"] == "SEVERE" and not any(e["message"].startswith(x) for x in expected)
        ]
        assert errors == []
        for request in self.requests():
            url = request["url"].removeprefix("blob:")  # images shown from blob: URLs of this origin
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == self.base, request["url"]

    def screenshot(self, name: str) -> Path:
        """Save what the window shows as docs/screenshots/`name`, a palette PNG to keep it small."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(io.BytesIO(self.browser.get_screenshot_as_png())) as shot:
            small = shot.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
        path = SCREENSHOTS / name
        small.save(path, optimize=True)
        return path
