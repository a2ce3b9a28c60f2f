"""Jobs from the playground in real Chromium: images, a streamed and stopped chat, embeddings, the history."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.playground.deployment import Deployment
from tests.browser.playground.page import Page, attr
from tests.browser.playground.wcag import backdrop, parse, ratio

pytestmark = pytest.mark.slow

SCREENSHOT_MAX_BYTES = 250 * 1024


def row_status(page: Page, job_id: str) -> str | None:
    """The status the history shows for the job; None while it is not listed."""
    script = (
        "return document.querySelector(`[data-testid=history] [data-job-id='${arguments[0]}'] .status`)"
        "?.textContent"
    )
    found = page.browser.execute_script(script, job_id)
    return None if found is None else str(found)


def wait_row(page: Page, job_id: str, status: str) -> None:
    page.wait(lambda: row_status(page, job_id) == status, what=f"job {job_id} {status} in the history")


def press(page: Page, job_id: str, action: str) -> None:
    """Press a history row's button (found again if the list was rebuilt under the click)."""
    selector = f'[data-testid=history] [data-job-id="{job_id}"] [data-action="{action}"]'
    page.wait(lambda: page.click(selector), what=action)


def job_id_of(panel: WebElement) -> str:
    return panel.find_element(By.CSS_SELECTOR, ".job-meta").text.removeprefix("job ")


def test_an_image_job_shows_its_progress_then_its_images_at_the_asked_size(
    page: Page, deployment: Deployment
) -> None:
    page.open()
    panel = page.tab("image")
    page.fill(page.testid("prompt", panel), "a red fox in the snow")
    for name, value in (("width", "128"), ("height", "96"), ("steps", "3"), ("seed", "7")):
        page.fill(panel.find_element(By.ID, f"image-{name}"), value)
    panel.find_element(By.ID, "image-count").send_keys("2")
    page.testid("submit", panel).click()

    assert page.wait_status(panel, "succeeded", "failed") == "succeeded"

    def loaded() -> bool:  # the images come after the status: each is fetched with the key, then shown
        sizes = page.natural_sizes(page.testids("result-image", panel))
        return len(sizes) == 2 and (0, 0) not in sizes

    page.wait(loaded, what="the two images")
    images = page.testids("result-image", panel)
    assert page.natural_sizes(images) == [(128, 96), (128, 96)]
    assert all(attr(image, "alt").startswith("Image ") for image in images)
    progress = page.testid("progress", panel)
    assert (progress.get_attribute("max"), progress.get_attribute("value")) == ("3", "3")  # from its events
    links = panel.find_elements(By.CSS_SELECTOR, "figcaption a[download]")
    assert [link.get_attribute("href") for link in links] == [image.get_attribute("src") for image in images]
    job = deployment.job(job_id_of(panel))
    assert (job["status"], job["input"]["width"], job["input"]["height"]) == ("succeeded", 128, 96)
    wait_row(page, job["id"], "succeeded")
    assert page.screenshot("playground-image.png").stat().st_size < SCREENSHOT_MAX_BYTES
    page.assert_clean()


def send(page: Page, panel: WebElement, text: str) -> None:
    page.fill(page.testid("chat-input", panel), text)
    page.testid("chat-input", panel).send_keys(Keys.ENTER)


def test_a_chat_streams_its_tokens_before_the_job_ends_and_stop_cancels_it(
    page: Page, deployment: Deployment
) -> None:
    page.open()
    panel = page.tab("chat")
    output = page.testid("chat-output", panel)
    page.fill(panel.find_element(By.ID, "chat-temperature"), "0")
    send(page, panel, "Tell me about foxes.")
    assert page.wait_status(panel, "succeeded", "failed") == "succeeded"
    answered = job_id_of(panel)
    reply = deployment.job(answered)["result"]["text"]
    shown = output.find_elements(By.CSS_SELECTOR, ".message.assistant p")[-1]
    assert page.browser.execute_script("return arguments[0].textContent", shown) == reply

    send(page, panel, "endless story, please")
    page.wait(lambda: output.text.count("tick") >= 3, what="streamed tokens")
    streaming = job_id_of(panel)
    held = deployment.job(streaming)
    assert held["status"] == "running"  # the tokens came before the job ended
    assert [m["role"] for m in held["input"]["messages"]] == ["system", "user", "assistant", "user"]
    assert page.status(panel) == "running"
    seen = output.text.count("tick")
    page.wait(lambda: output.text.count("tick") > seen, what="more tokens")
    page.testid("stop", panel).click()

    assert page.wait_status(panel, "canceled", "succeeded", "failed") == "canceled"
    assert deployment.job(streaming)["status"] == "canceled"
    assert output.find_elements(By.CSS_SELECTOR, ".message.assistant")[-1].text.endswith("(stopped)")
    assert page.testid("stop", panel).get_attribute("disabled") == "true"
    wait_row(page, answered, "succeeded")
    wait_row(page, streaming, "canceled")
    assert page.screenshot("playground-chat.png").stat().st_size < SCREENSHOT_MAX_BYTES
    page.assert_clean()


def test_embeddings_show_as_a_similarity_heat_map(page: Page) -> None:
    page.open()
    panel = page.tab("embed")
    page.fill(page.testid("embed-input", panel), "a cat\na kitten\ntax law")
    page.testid("embed-submit", panel).click()

    assert page.wait_status(panel, "succeeded", "failed") == "succeeded"
    table = page.testid("embed-matrix", panel)
    cells = [
        [td for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in table.find_elements(By.TAG_NAME, "tr")[1:]
    ]
    values = [[float(td.text) for td in row] for row in cells]
    assert [values[i][i] for i in range(3)] == [1.0, 1.0, 1.0]
    assert values[0][1] == values[1][0] > values[0][2]  # a cat is nearer a kitten than tax law
    for td in (td for row in cells for td in row):
        shown = ratio(
            parse(td.value_of_css_property("color")), backdrop([td.value_of_css_property("background-color")])
        )
        assert shown >= 4.5, (td.text, shown)
    assert page.screenshot("playground-embed.png").stat().st_size < SCREENSHOT_MAX_BYTES
    page.assert_clean()


def test_the_queue_panel_shows_each_queue_and_where_a_waiting_job_stands(
    page: Page, deployment: Deployment
) -> None:
    for text in ("one", "two"):  # a service rate for the embed queue, so its estimate is known
        assert deployment.submit("embed", {"input": text}, wait=60)["status"] == "succeeded"
    holder = deployment.hold_worker()
    page.open()
    queues = page.testid("queue-panel")
    page.wait(lambda: "chat 0 1 1" in queues.text, what="the running chat in the queue panel")

    panel = page.tab("embed")
    page.testid("embed-submit", panel).click()
    assert page.wait_status(panel, "queued", "running", "succeeded", "failed") == "queued"
    page.wait(lambda: "embed 1 0 1" in queues.text, what="the waiting embed job in the queue panel")
    mine = queues.find_element(By.CSS_SELECTOR, ".your-jobs").text
    assert f"Your embed job {job_id_of(panel)[:8]}: #1 in the embed queue, starts in about " in mine

    deployment.http.post(f"/v1/jobs/{holder}/cancel")
    assert page.wait_status(panel, "succeeded", "failed") == "succeeded"
    page.wait(lambda: not queues.find_element(By.CSS_SELECTOR, ".your-jobs").text, what="the place cleared")
    page.assert_clean()


def test_the_history_opens_a_jobs_result_and_cancels_a_queued_job(page: Page, deployment: Deployment) -> None:
    image = deployment.submit("image", {"prompt": "a fox", "width": 64, "height": 72, "steps": 1}, wait=60)
    assert image["status"] == "succeeded"
    deployment.hold_worker()
    waiting = deployment.submit("embed", {"input": "queued behind the chat"})
    page.open()

    wait_row(page, image["id"], "succeeded")
    press(page, image["id"], "open")
    detail = page.testid("history").find_element(By.CSS_SELECTOR, ".detail")
    shown = page.wait(lambda: page.testids("result-image", detail), what="the opened job's image")
    page.wait(lambda: page.natural_sizes(shown) == [(64, 72)], what="the image loaded")
    assert image["id"] in detail.text

    wait_row(page, waiting["id"], "queued")
    press(page, waiting["id"], "cancel")
    wait_row(page, waiting["id"], "canceled")
    assert deployment.job(waiting["id"])["status"] == "canceled"
    cancels = f'[data-testid=history] [data-job-id="{waiting["id"]}"] [data-action="cancel"]'
    assert page.browser.find_elements(By.CSS_SELECTOR, cancels) == []
    page.assert_clean()


def test_a_problem_shows_its_detail_and_each_message_next_to_its_field(page: Page) -> None:
    page.open()
    panel = page.tab("image")
    page.fill(panel.find_element(By.ID, "image-width"), "100")
    page.fill(panel.find_element(By.ID, "image-steps"), "0")
    page.testid("submit", panel).click()

    summary = page.wait(lambda: panel.find_element(By.CSS_SELECTOR, ".form-errors").text, what="the problem")
    assert summary.startswith("422 Invalid input: the image input is invalid")
    for name, message in (("width", "multiple of 8"), ("steps", "must be at least 1")):
        field = panel.find_element(By.ID, f"image-{name}")
        note = panel.find_element(By.ID, f"image-{name}-error")
        assert message in note.text
        assert field.get_attribute("aria-invalid") == "true"
        assert f"image-{name}-error" in attr(field, "aria-describedby").split()
        assert note.find_element(By.XPATH, "..") == field.find_element(By.XPATH, "..")  # in the same field
    assert page.status(panel) == "refused"

    page.fill(panel.find_element(By.ID, "image-width"), "64")
    page.fill(panel.find_element(By.ID, "image-steps"), "1")
    page.testid("submit", panel).click()
    assert page.wait_status(panel, "succeeded", "failed") == "succeeded"
    assert not panel.find_elements(By.CSS_SELECTOR, ".field-error, [aria-invalid]")
    page.assert_clean(refused=[("/v1/jobs", 422)])


def test_the_history_stays_bounded_and_open_shows_the_details_in_view(
    page: Page, deployment: Deployment
) -> None:
    jobs = [deployment.submit("embed", {"input": f"text {i}"}, wait=60) for i in range(15)]
    page.browser.set_window_size(1200, 700)  # a laptop's screen: the fold is near
    page.open()
    oldest = jobs[0]["id"]  # last in the list, newest first
    wait_row(page, oldest, "succeeded")
    history = page.testid("history")
    listing = history.find_element(By.CSS_SELECTOR, ".jobs")
    assert listing.size["height"] <= 24 * 16 + 1  # 24rem: the list scrolls, the page does not grow
    assert page.browser.execute_script(
        "return arguments[0].scrollHeight > arguments[0].clientHeight", listing
    )

    press(page, oldest, "open")
    detail = history.find_element(By.CSS_SELECTOR, ".detail")
    page.wait(lambda: oldest in detail.text, what="the opened job's details")
    top, bottom = page.browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.top, r.top + 40];", detail
    )
    assert top >= 0
    assert bottom <= page.browser.execute_script("return window.innerHeight")
    page.assert_clean()
