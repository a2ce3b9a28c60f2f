"""The playground page itself: public under a strict CSP, small, labelled, legible, keyboard operable."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from devtools import REPO
from tests.browser.playground.deployment import Deployment
from tests.browser.playground.page import Page, attr
from tests.browser.playground.wcag import backdrop, parse, ratio

pytestmark = pytest.mark.slow

FILES = REPO / "api" / "static" / "playground"
MAX_PAGE_BYTES = 200 * 1024
# The main palette's text: headings, labels, hints, tabs, buttons, links, tables, statuses, problems.
TEXT = (
    "body, h1, .sub, h2, label, .hint, [role=tab], button, a, th, td, .status, .job-meta, "
    ".who, .message p, .field-error, .form-errors p"
)
COLOURS = """
return [...document.querySelectorAll(arguments[0])]
  .filter((el) => el.getClientRects().length)
  .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
  .map((el) => {
    const chain = [];
    for (let n = el; n; n = n.parentElement) chain.push(getComputedStyle(n).backgroundColor);
    return [el.outerHTML.slice(0, 80), getComputedStyle(el).color, chain];
  });
"""


class Markup(HTMLParser):
    """What the CSP would refuse in a page: inline scripts and styles, event handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        if tag == "style" or "style" in names or any(name.startswith("on") for name in names):
            self.inline.append(self.get_starttag_text() or tag)

    def handle_data(self, data: str) -> None:
        if self.lasttag == "script" and data.strip():
            self.inline.append(data)


def test_root_redirects_to_a_public_page_under_a_strict_csp(deployment: Deployment) -> None:
    root = deployment.http.get("/")
    assert (root.status_code, root.headers["Location"]) == (302, "/ui")
    page = httpx.get(f"{deployment.secure_url}/ui")  # auth on, and no key
    assert (page.status_code, page.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert 'data-auth="on"' in page.text
    assert 'data-auth="off"' in deployment.http.get("/ui").text
    policy = dict(d.strip().partition(" ")[::2] for d in page.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
    assert (policy["object-src"], policy["base-uri"], policy["frame-ancestors"]) == ("'none'",) * 3
    assert "unsafe" not in page.headers["Content-Security-Policy"]
    markup = Markup()
    markup.feed(page.text)
    assert markup.scripts == ["/static/playground/js/main.js"]
    assert markup.inline == []
    for path in sorted(FILES.rglob("*.*")):
        asset = httpx.get(f"{deployment.secure_url}/static/playground/{path.relative_to(FILES)}")
        assert asset.status_code == 200, path


def test_the_page_transfers_under_200_kib(page: Page) -> None:
    page.browser.execute_cdp_cmd("Network.clearBrowserCache", {})
    page.open()
    page.wait(lambda: "Updated at" in page.testid("queue-panel").text, what="the first queue refresh")
    page.collect()
    urls = {
        m["params"]["requestId"]: m["params"]["request"]["url"]
        for m in page.network
        if "request" in m["params"]
    }
    sizes: dict[str, int] = {}
    for message in page.network:
        url = urls.get(message["params"].get("requestId", ""), "")
        path = url.removeprefix(page.base)
        if message["method"] == "Network.loadingFinished" and (path == "/ui" or path.startswith("/static/")):
            sizes[path] = int(message["params"]["encodedDataLength"])
    own = {f"/static/playground/{p.relative_to(FILES)}" for p in FILES.rglob("*.*") if p.name != "index.html"}
    assert set(sizes) == own | {"/ui"}  # every file of the page, and nothing else, came from the server
    total = sum(sizes.values())
    print(f"the playground transferred {total / 1024:.1f} KiB in {len(sizes)} files")
    assert 0 < total < MAX_PAGE_BYTES
    page.assert_clean()


def test_every_control_is_labelled_and_every_image_has_alt_text(page: Page) -> None:
    page.open()
    panel = page.tab("image")
    page.fill(panel.find_element(By.ID, "image-width"), "64")
    page.fill(panel.find_element(By.ID, "image-height"), "64")
    page.fill(panel.find_element(By.ID, "image-steps"), "1")
    page.testid("submit", panel).click()
    assert page.wait_status(panel, "succeeded", "failed") == "succeeded"
    page.wait(lambda: page.testids("result-image", panel), what="the image")

    controls = page.browser.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')].map((el) => [el.id,"
        " [...el.labels].map((l) => l.textContent.trim()).join(' ') || el.getAttribute('aria-label') || ''])"
    )
    assert len(controls) >= 11
    assert [id_ for id_, label in controls if not label] == []
    buttons = page.browser.execute_script(
        "return [...document.querySelectorAll('button')].filter((b) => !(b.textContent.trim()"
        " || b.getAttribute('aria-label'))).map((b) => b.outerHTML)"
    )
    assert buttons == []
    images = page.browser.find_elements(By.TAG_NAME, "img")
    assert images
    assert all(attr(image, "alt").strip() for image in images)
    page.assert_clean()


def test_the_main_text_has_a_contrast_of_at_least_4_5_to_1(page: Page) -> None:
    page.open()
    panel = page.tab("image")
    page.fill(panel.find_element(By.ID, "image-width"), "100")  # a problem, to see its colours too
    page.testid("submit", panel).click()
    page.wait(lambda: panel.find_elements(By.CSS_SELECTOR, ".field-error"), what="the field's problem")

    shown = page.browser.execute_script(COLOURS, TEXT)
    assert len(shown) >= 20
    low = [(html, round(ratio(parse(colour), backdrop(chain)), 2)) for html, colour, chain in shown]
    assert [(html, r) for html, r in low if r < 4.5] == []
    page.assert_clean(refused=[("/v1/jobs", 422)])


def test_the_tabs_are_an_aria_tablist_that_arrow_keys_operate(page: Page) -> None:
    page.open()
    browser = page.browser
    tabs = browser.find_elements(By.CSS_SELECTOR, "[role=tablist] > [role=tab]")
    assert [t.get_attribute("aria-controls") for t in tabs] == ["panel-image", "panel-chat", "panel-embed"]

    def selected() -> tuple[str, str, list[str]]:
        focused = attr(browser.switch_to.active_element, "id")
        panels = browser.find_elements(By.CSS_SELECTOR, "[role=tabpanel]")
        visible = [attr(p, "id") for p in panels if p.is_displayed()]
        chosen = [attr(t, "id") for t in tabs if attr(t, "aria-selected") == "true"]
        assert [attr(t, "tabindex") for t in tabs if attr(t, "id") in chosen] == ["0"]
        return chosen[0], focused, visible

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)  # the skip link
    browser.switch_to.active_element.send_keys(Keys.TAB)  # the API reference link
    browser.switch_to.active_element.send_keys(Keys.TAB)  # the selected tab
    assert selected() == ("tab-image", "tab-image", ["panel-image"])
    outline = browser.switch_to.active_element.value_of_css_property("outline-style")
    assert outline == "solid"  # focus is visible
    for key, expected in ((Keys.ARROW_RIGHT, "chat"), (Keys.END, "embed"), (Keys.ARROW_RIGHT, "image")):
        browser.switch_to.active_element.send_keys(key)
        assert selected() == (f"tab-{expected}", f"tab-{expected}", [f"panel-{expected}"])
    for key, expected in ((Keys.ARROW_LEFT, "embed"), (Keys.HOME, "image")):
        browser.switch_to.active_element.send_keys(key)
        assert selected() == (f"tab-{expected}", f"tab-{expected}", [f"panel-{expected}"])
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "image-prompt"  # on into the panel
    page.assert_clean()


def test_the_page_fits_375_px_and_runs_a_job_there(page: Page) -> None:
    metrics = {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True}
    page.browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        page.open()
        assert page.browser.execute_script("return window.innerWidth") == 375
        panel = page.tab("image")
        page.fill(panel.find_element(By.ID, "image-width"), "64")
        page.fill(panel.find_element(By.ID, "image-height"), "64")
        page.fill(panel.find_element(By.ID, "image-steps"), "2")
        page.testid("submit", panel).click()
        assert page.wait_status(panel, "succeeded", "failed") == "succeeded"
        images = page.wait(lambda: page.testids("result-image", panel), what="the image")
        page.wait(lambda: page.natural_sizes(images) == [(64, 64)], what="the image loaded")
        overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.browser.execute_script(overflow) == 0  # nothing wider than the screen
        assert page.screenshot("playground-375.png").stat().st_size < 250 * 1024
    finally:
        page.browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    page.assert_clean()
