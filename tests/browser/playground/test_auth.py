"""The playground of an API with auth on: it asks for a key, keeps it in sessionStorage, shows 401 and 429."""

from __future__ import annotations

import re

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.playground.deployment import ENDLESS, Deployment
from tests.browser.playground.page import Page

pytestmark = pytest.mark.slow


def give_key(page: Page, key: str) -> str:
    """Type `key` into the page and submit it; the key state the page then shows."""
    field = page.testid("api-key")
    page.fill(field, key)
    field.send_keys(Keys.ENTER)
    state = page.browser.find_element(By.ID, "key-state")
    page.wait(lambda: state.get_attribute("data-state") in ("accepted", "refused"), what="the key checked")
    return state.text


def notice(page: Page) -> str:
    box = page.browser.find_element(By.ID, "notice")
    return str(page.wait(lambda: box.is_displayed() and box.text, what="the notice"))


def test_with_auth_on_the_page_asks_for_a_key_before_calling_the_api(secure_page: Page) -> None:
    secure_page.open()
    assert secure_page.testid("api-key").is_displayed()
    state = secure_page.browser.find_element(By.ID, "key-state").text
    assert state.startswith("This API needs a key: enter one above.")
    how = f'LLMB_API_KEY="$LLMB_ADMIN_KEY" llmb --url {secure_page.base} keys create --name NAME'
    assert how in state  # how to get one, from this page's origin
    body = secure_page.browser.find_element(By.TAG_NAME, "body").text
    assert body.count("needs a key") == 1  # said once, beside the key field
    assert "Waiting for a key." in secure_page.testid("queue-panel").text
    assert "Waiting for a key." in secure_page.testid("history").text
    paths = {r["url"].removeprefix(secure_page.base) for r in secure_page.requests()}
    assert "/ui" in paths
    assert [p for p in paths if p != "/ui" and not p.startswith("/static/playground/")] == []
    secure_page.assert_clean()


def test_a_wrong_key_shows_the_401_and_a_right_one_works(secure_page: Page, deployment: Deployment) -> None:
    key = deployment.new_key("browser-alice")
    wrong = key[:-6] + ("AAAAAA" if not key.endswith("AAAAAA") else "BBBBBB")
    refusal = httpx.get(f"{deployment.secure_url}/v1/queues", headers={"Authorization": f"Bearer {wrong}"})
    assert refusal.status_code == 401
    secure_page.open()

    assert give_key(secure_page, wrong) == f"Key refused (401): {refusal.json()['detail']}"
    shown = notice(secure_page)
    assert shown.startswith("401 The API refused the key\n")
    assert refusal.json()["detail"] in shown
    assert "Enter a valid API key above." in shown

    assert give_key(secure_page, key) == "Key accepted."
    assert not secure_page.browser.find_element(By.ID, "notice").is_displayed()
    queues = secure_page.testid("queue-panel")
    secure_page.wait(lambda: "embed 0 0 1" in queues.text, what="the queues")
    panel = secure_page.tab("embed")
    secure_page.testid("embed-submit", panel).click()
    assert secure_page.wait_status(panel, "succeeded", "failed") == "succeeded"
    job_id = panel.find_element(By.CSS_SELECTOR, ".job-meta").text.removeprefix("job ")
    history = secure_page.testid("history")
    secure_page.wait(
        lambda: history.find_elements(By.CSS_SELECTOR, f'[data-job-id="{job_id}"]'), what="history"
    )

    stored = "return [sessionStorage.getItem('llmb.apiKey'), localStorage.length, document.cookie]"
    assert secure_page.browser.execute_script(stored) == [key, 0, ""]
    sent = secure_page.requests()
    secret = key.rsplit("_", 1)[1]
    assert [r["url"] for r in sent if secret in r["url"] or wrong.rsplit("_", 1)[1] in r["url"]] == []
    events = [r for r in sent if r["url"].endswith(f"/v1/jobs/{job_id}/events")]
    assert events
    assert {r["headers"].get("Authorization") for r in events} == {f"Bearer {key}"}
    assert {r["headers"].get("Accept") for r in events} == {"text/event-stream"}
    secure_page.assert_clean(refused=[("/v1/queues", 401)])


def test_a_limit_shows_the_429_with_when_to_retry(secure_page: Page, deployment: Deployment) -> None:
    key = deployment.new_key("browser-bob", max_active_jobs=1)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=deployment.secure_url, headers=headers, timeout=90) as bob:
        held = bob.post("/v1/jobs", json={"type": "chat", "input": ENDLESS})  # the key's one active job
        assert held.status_code == 202, held.text
        try:
            secure_page.open()
            assert give_key(secure_page, key) == "Key accepted."
            panel = secure_page.tab("embed")
            secure_page.testid("embed-submit", panel).click()
            assert secure_page.wait_status(panel, "refused", "queued", "succeeded") == "refused"
            shown = notice(secure_page)
            summary = panel.find_element(By.CSS_SELECTOR, ".form-errors").text
        finally:
            bob.post(f"/v1/jobs/{held.json()['id']}/cancel")

    assert shown.startswith("429 Too many requests\n")
    assert "\nthis key has 1 queued and running jobs, its cap\n" in shown
    wait = re.search(r"Retry in (\d+) s \(at ", shown)
    assert wait is not None, shown
    assert int(wait.group(1)) >= 1
    assert summary.startswith("429 Too many requests: ")
    secure_page.assert_clean(refused=[("/v1/jobs", 429)])


def test_a_job_sent_without_a_key_says_the_api_needs_one_not_that_it_refused_it(secure_page: Page) -> None:
    secure_page.open()
    panel = secure_page.tab("embed")
    secure_page.testid("embed-submit", panel).click()
    shown = notice(secure_page)
    assert shown.startswith("401 This API needs a key\n")
    assert "refused" not in shown
    assert re.search(r"llmb --url http://127\.0\.0\.1:\d+ keys create --name NAME", shown), shown
    secure_page.assert_clean(refused=[("/v1/jobs", 401)])
