"""GET /metrics in one process: request counts by route template, live gauges, refusals; traceparent kept."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from shared.settings import Limits
from tests.api.conftest import AppFor

IMAGE = {"type": "image", "input": {"prompt": "a fox", "width": 64, "height": 64, "steps": 1}}
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def sample(client: FlaskClient, name: str, **labels: str) -> float:
    """The value of one sample of a scrape (0 when absent: a counter not yet incremented)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return 0.0


@pytest.fixture
def waiting(client: FlaskClient) -> str:
    """A queued job (no worker runs here)."""
    answer = client.post("/v1/jobs", json=IMAGE)
    assert answer.status_code == 202
    job_id: str = answer.get_json()["id"]
    return job_id


def test_requests_are_counted_by_route_template_never_by_id(client: FlaskClient, waiting: str) -> None:
    route = dict(method="GET", route="/v1/jobs/<job_id>", status="200")
    before = sample(client, "llmb_http_requests_total", **route)

    for _ in range(3):
        assert client.get(f"/v1/jobs/{waiting}").status_code == 200

    assert sample(client, "llmb_http_requests_total", **route) == before + 3
    text = client.get("/metrics").get_data(as_text=True)
    assert waiting not in text
    assert "_created" not in text


def test_long_waits_and_event_streams_are_gauged_while_open(app: Flask, waiting: str) -> None:
    client = app.test_client()
    assert sample(client, "llmb_long_waits_in_flight") == 0
    waiter = threading.Thread(target=lambda: app.test_client().get(f"/v1/jobs/{waiting}?wait=3"))
    waiter.start()
    try:
        assert _eventually(lambda: sample(client, "llmb_long_waits_in_flight") == 1)
    finally:
        waiter.join()
    assert sample(client, "llmb_long_waits_in_flight") == 0

    stream = app.test_client().get(f"/v1/jobs/{waiting}/events", buffered=False)
    frames = stream.response
    next(iter(frames))  # the stream has begun
    assert sample(client, "llmb_event_streams_open") == 1
    stream.close()
    assert sample(client, "llmb_event_streams_open") == 0


def test_refusals_and_auth_failures_are_counted_by_reason(app_for: AppFor) -> None:
    limited = app_for(limits=Limits(key_jobs_per_minute=1)).test_client()
    refused = sample(limited, "llmb_limit_refusals_total", reason="rate_limited")
    keyed = app_for(auth="on", admin_key=SecretStr("a" * 32)).test_client()
    malformed = sample(keyed, "llmb_auth_failures_total", reason="malformed")
    missing = sample(keyed, "llmb_auth_failures_total", reason="missing")

    assert [limited.post("/v1/jobs", json=IMAGE).status_code for _ in range(2)] == [202, 429]
    assert keyed.get("/v1/jobs", headers={"Authorization": "Bearer llmb_nope"}).status_code == 401
    assert keyed.get("/v1/jobs").status_code == 401

    assert sample(limited, "llmb_limit_refusals_total", reason="rate_limited") == refused + 1
    assert sample(keyed, "llmb_auth_failures_total", reason="malformed") == malformed + 1
    assert sample(keyed, "llmb_auth_failures_total", reason="missing") == missing + 1


def test_a_traceparent_is_kept_on_the_job_and_a_malformed_one_ignored(app: Flask) -> None:
    client, store = app.test_client(), app.extensions["llmb"].store
    kept = client.post("/v1/jobs", json=IMAGE, headers={"traceparent": TRACEPARENT})
    odd = client.post(
        "/v1/jobs", json=IMAGE, headers={"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}
    )

    assert kept.status_code == odd.status_code == 202
    assert store.get(kept.get_json()["id"]).traceparent == TRACEPARENT
    assert store.get(odd.get_json()["id"]).traceparent == ""


def _eventually(check: object, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _series(client: FlaskClient) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (s.name, tuple(sorted(s.labels.items())))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_made_up_methods_and_paths_add_no_series(client: FlaskClient) -> None:
    for n in range(3):  # each kind of request once (a scrape too), so that their series exist
        client.open(f"/made-up-{n}", method=f"BREW{n}")
        client.open(f"/v1/jobs/{n}/x{n}", method="DELETE")
        client.open("/health", method=f"X{n}")
        before = _series(client)

    for n in range(3, 40):
        client.open(f"/made-up-{n}", method=f"BREW{n}")
        client.open(f"/v1/jobs/{n}/x{n}", method="DELETE")
        client.open("/health", method=f"X{n}")

    after = _series(client)
    assert after == before
    assert not any(dict(labels).get("method", "").startswith("BREW") for _, labels in after)
    assert not any("made-up" in dict(labels).get("route", "") for _, labels in after)


def test_the_content_type_names_its_charset_once(client: FlaskClient) -> None:
    answer = client.get("/metrics")

    assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_labelled_counters_are_exported_at_zero_before_anything_happens(client: FlaskClient) -> None:
    series = _series(client)

    for job_type in ("image", "chat", "embed"):
        assert ("llmb_jobs_submitted_total", (("type", job_type),)) in series
        for status, code in (("succeeded", ""), ("canceled", ""), ("failed", "internal")):
            labels = (("error_code", code), ("status", status), ("type", job_type))
            assert ("llmb_jobs_finished_total", labels) in series
    assert ("llmb_limit_refusals_total", (("reason", "rate_limited"),)) in series
    assert ("llmb_auth_failures_total", (("reason", "missing"),)) in series
