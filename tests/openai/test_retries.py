"""The SDK's own retries work against the service: 429 and 503 carry Retry-After, and a retry succeeds.

A 504 (the job outlived LLMB_OPENAI_WAIT_S) says X-Should-Retry: false unless the request has an
Idempotency-Key, since a retry without one would start a second job; with one, it waits on the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import openai
import pytest

from devtools.stack.process import Service
from tests.openai.conftest import ADMIN_KEY, CHAT_MODEL, Deployment, Native

pytestmark = pytest.mark.slow

SHORT = [{"role": "user", "content": "say:ok"}]
LONG = {"messages": [{"role": "user", "content": "repeat:busy "}], "max_tokens": 2000}


def later(seconds: float, action: Callable[[], None]) -> threading.Timer:
    """Run `action` in `seconds`, from another thread."""
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_a_429_for_too_many_active_jobs_is_retried_until_one_ends(
    sdk_for: Callable[..., openai.OpenAI], native_for: Callable[[str], Native], deployment: Deployment
) -> None:
    key = deployment.new_key("one-at-a-time", max_active_jobs=1)
    native = native_for(key)
    busy = native.submit("chat", LONG)
    native.decoding(busy)
    timer = later(1.5, lambda: native.cancel(busy))  # after the first refusal, before the retries run out
    try:
        raw = sdk_for(key, max_retries=4).chat.completions.with_raw_response.create(
            model=CHAT_MODEL,
            messages=SHORT,
            max_tokens=4,  # type: ignore[arg-type]
        )
    finally:
        timer.join()
    assert raw.retries_taken >= 1
    assert raw.parse().choices[0].message.content == "ok"


@pytest.fixture
def small_queue_api(deployment: Deployment) -> Iterator[Service]:
    """A second API on the same Redis whose queues take one waiting job (QueueFullError: 503)."""
    env = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN_KEY, "LLMB_LIMITS__QUEUE_MAX_WAITING": "1"}
    api = deployment.stack.start_api(workers=1, env=env)
    yield api
    api.stop()
    deployment.stack.services.remove(api)


def test_a_503_for_a_full_queue_is_retried_after_its_retry_after(
    small_queue_api: Service, native: Native, key: str
) -> None:
    busy = native.submit("chat", LONG)
    native.decoding(busy)
    waiting = native.submit("chat", LONG)  # the queue's one waiting place
    timer = later(1.0, lambda: (native.cancel(waiting), native.cancel(busy)))
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{small_queue_api.port}/v1", api_key=key, max_retries=2)
    try:
        raw = client.chat.completions.with_raw_response.create(model=CHAT_MODEL, messages=SHORT, max_tokens=4)  # type: ignore[arg-type]
    finally:
        timer.join()
        client.close()
    assert raw.retries_taken >= 1  # after the 503's Retry-After (5 s)
    assert raw.parse().choices[0].message.content == "ok"


@pytest.fixture
def impatient_api(deployment: Deployment) -> Iterator[Service]:
    """A second API on the same Redis whose OpenAI-compatible requests wait 1 s for their job."""
    env = {"LLMB_AUTH": "on", "LLMB_ADMIN_KEY": ADMIN_KEY, "LLMB_OPENAI_WAIT_S": "1"}
    api = deployment.stack.start_api(workers=1, env=env)
    yield api
    api.stop()
    deployment.stack.services.remove(api)


def test_a_504_names_the_job_which_goes_on_and_a_keyed_retry_waits_on_it(
    impatient_api: Service, native: Native, key: str
) -> None:
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{impatient_api.port}/v1", api_key=key, max_retries=0)
    try:
        busy = native.submit("chat", LONG)  # the short request waits behind it past the 1 s
        native.decoding(busy)
        with pytest.raises(openai.InternalServerError) as timed_out:
            client.chat.completions.create(model=CHAT_MODEL, messages=SHORT, max_tokens=4)  # type: ignore[arg-type]
        response = timed_out.value.response
        assert response.status_code == 504
        assert response.headers["X-Should-Retry"] == "false"  # a retry would start a second job
        job_id = response.headers["X-Job-Id"]
        assert job_id in timed_out.value.message
        assert timed_out.value.body["job_id"] == job_id  # type: ignore[index]
        native.cancel(busy)
        assert native.finished(job_id)["status"] == "succeeded"  # the job went on

        busy = native.submit("chat", LONG)
        native.decoding(busy)
        keyed = {"Idempotency-Key": f"retry-{job_id}"}
        with pytest.raises(openai.InternalServerError) as again:
            client.chat.completions.create(
                model=CHAT_MODEL, messages=SHORT, max_tokens=4, extra_headers=keyed
            )  # type: ignore[arg-type]
        assert again.value.response.headers["X-Should-Retry"] == "true"  # the retry waits on the same job
        first = again.value.response.headers["X-Job-Id"]
        native.cancel(busy)
        retried = client.chat.completions.with_raw_response.create(
            model=CHAT_MODEL,
            messages=SHORT,
            max_tokens=4,
            extra_headers=keyed,  # type: ignore[arg-type]
        )
        assert retried.headers["X-Job-Id"] == first
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.parse().choices[0].message.content == "ok"
    finally:
        client.close()
