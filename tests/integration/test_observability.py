"""Metrics and logs of a real deployment: the API under gunicorn with 2 processes, a worker for every
queue with its metrics port, both logging JSON; a few jobs of each type, then what an operator sees."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from devtools.stack.deployment import Stack
from devtools.stack.process import Service, free_port
from tests.fixtures.stacks import discard

N = 3  # jobs of each type
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INPUTS: dict[str, dict[str, Any]] = {
    "image": {"prompt": "a fox", "width": 64, "height": 64, "steps": 2, "seed": 1},
    "chat": {"messages": [{"role": "user", "content": "hello"}], "max_tokens": 6, "seed": 1},
    "embed": {"input": ["a cat", "a kitten"]},
}


@dataclass
class Deployment:
    """What the tests look at: the API, the worker's metrics port, the jobs run and the log files."""

    api: str
    worker_metrics: str
    api_service: Service
    worker: Service
    jobs: dict[str, list[dict[str, Any]]]
    traced: str  # the id of the job POSTed with TRACEPARENT


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Iterator[Deployment]:
    stack = Stack(tmp_path_factory.mktemp("observability"))
    try:
        stack.start_redis()
        json_logs = {"LLMB_LOG_FORMAT": "json"}
        api_service = stack.start_api(workers=2, env=json_logs)
        port = free_port()
        env = {**json_logs, "LLMB_METRICS_PORT": str(port), "LLMB_IMAGE_MODEL": str(tiny_models / "tiny-sd")}
        env["LLMB_CHAT_MODEL"] = str(tiny_models / "tiny-chat")
        worker = stack.start_worker(queues="image,chat,embed", env=env)
        api = f"http://127.0.0.1:{api_service.port}"
        jobs, traced = _run_jobs(api)
        yield Deployment(api, f"http://127.0.0.1:{port}/metrics", api_service, worker, jobs, traced)
    finally:
        discard(stack)


def _run_jobs(api: str) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """N jobs of each type, each POST on a new connection (so either gunicorn process may take it)."""
    ids: dict[str, list[str]] = {t: [] for t in INPUTS}
    for i in range(N):
        for job_type, job_input in INPUTS.items():
            headers = {"traceparent": TRACEPARENT} if (i, job_type) == (0, "chat") else {}
            body = {"type": job_type, "input": job_input}
            answer = httpx.post(f"{api}/v1/jobs", json=body, headers=headers, timeout=30)
            assert answer.status_code == 202, answer.text
            ids[job_type].append(answer.json()["id"])
    jobs = {t: [_finished(api, job_id) for job_id in found] for t, found in ids.items()}
    return jobs, ids["chat"][0]


def _finished(api: str, job_id: str) -> dict[str, Any]:
    for _ in range(10):
        job: dict[str, Any] = httpx.get(f"{api}/v1/jobs/{job_id}", params={"wait": 30}, timeout=40).json()
        if job["status"] in {"succeeded", "failed", "canceled"}:
            assert job["status"] == "succeeded", job
            return job
    raise AssertionError(f"job {job_id} did not finish: {job}")


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One scrape, parsed by prometheus-client's own parser: (sample name, labels) -> value."""
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples: list[Sample] = [s for f in text_string_to_metric_families(answer.text) for s in f.samples]
    return {(s.name, frozenset(s.labels.items())): s.value for s in samples}


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sample's value; KeyError names what is missing."""
    return scraped[(name, frozenset(labels.items()))]


def log_lines(service: Service) -> list[dict[str, Any]]:
    """Every line of the service's log, each of which must be one JSON object."""
    lines = [line for line in service.log_path.read_text().splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{service.name} logged a line that is not JSON: {line!r}")
    assert all(isinstance(p, dict) for p in parsed)
    return parsed


def test_api_counters_and_histograms_count_every_job_whichever_process_served_it(
    deployment: Deployment,
) -> None:
    scraped = scrape(f"{deployment.api}/metrics")

    for job_type in INPUTS:
        assert value(scraped, "llmb_jobs_submitted_total", type=job_type) == N
        finished = dict(type=job_type, status="succeeded", error_code="")
        assert value(scraped, "llmb_jobs_finished_total", **finished) == N
        for histogram in ("llmb_job_queue_wait_seconds", "llmb_job_run_seconds"):
            assert value(scraped, f"{histogram}_count", type=job_type) == N
            assert value(scraped, f"{histogram}_bucket", type=job_type, le="+Inf") == N
            assert value(scraped, f"{histogram}_sum", type=job_type) > 0
    posts = dict(method="POST", route="/v1/jobs", status="202")
    assert value(scraped, "llmb_http_requests_total", **posts) == N * len(INPUTS)
    assert value(scraped, "llmb_http_request_duration_seconds_count", route="/v1/jobs") >= N * len(INPUTS)
    # The POSTs were answered by both gunicorn processes (their audit lines name their pids), so the
    # totals above are sums across processes.
    pids = {
        line["pid"]
        for line in log_lines(deployment.api_service)
        if line.get("message", "").startswith("POST")
    }
    assert len(pids) == 2, pids


def test_queue_gauges_match_the_queues_route(deployment: Deployment) -> None:
    queues = httpx.get(f"{deployment.api}/v1/queues", timeout=10).json()["queues"]
    scraped = scrape(f"{deployment.api}/metrics")

    assert set(queues) == set(INPUTS)
    for queue, load in queues.items():
        for gauge in ("waiting", "running", "workers"):
            assert value(scraped, f"llmb_queue_{gauge}", queue=queue) == load[gauge], (queue, gauge)
        assert load["workers"] == 1


def test_the_worker_counts_the_batches_it_logged_and_what_it_made(deployment: Deployment) -> None:
    scraped = scrape(deployment.worker_metrics)
    batches: dict[str, list[int]] = {t: [] for t in INPUTS}
    for line in log_lines(deployment.worker):
        found = re.fullmatch(r"batch of (\d+) (\w+) jobs: .*", line.get("message", ""))
        if found:
            batches[found.group(2)].append(int(found.group(1)))

    for job_type, sizes in batches.items():
        assert sum(sizes) == N, (job_type, sizes)  # every job ran once, in some batch
        assert value(scraped, "llmb_batch_size_count", type=job_type) == len(sizes)
        assert value(scraped, "llmb_batch_size_sum", type=job_type) == sum(sizes)
        assert value(scraped, "llmb_step_seconds_count", type=job_type) > 0
        assert value(scraped, "llmb_pipeline_load_seconds", type=job_type) > 0
        assert value(scraped, "llmb_worker_busy", queue=job_type) == 0
    usage = sum(job["result"]["usage"]["completion_tokens"] for job in deployment.jobs["chat"])
    assert value(scraped, "llmb_generated_tokens_total") == usage
    assert value(scraped, "llmb_images_generated_total") == N
    assert value(scraped, "llmb_embeddings_total") == N * len(INPUTS["embed"]["input"])


def test_every_log_line_is_json_and_names_the_jobs_it_mentions(deployment: Deployment) -> None:
    for service in (deployment.api_service, deployment.worker):
        lines = log_lines(service)
        assert lines, service.name
        for line in lines:
            assert {"time", "level", "logger", "message"} <= set(line), line
            mentioned = set(UUID.findall(line["message"]))
            if mentioned:
                named = {line.get("job_id"), *line.get("job_ids", [])}
                assert mentioned <= named, line


def test_a_traceparent_sent_on_post_is_on_the_workers_lines_for_that_job(deployment: Deployment) -> None:
    lines = log_lines(deployment.worker)
    about = [line for line in lines if line.get("job_id") == deployment.traced]
    # The main process logs the message's arrival before anyone read the job: it names the job only.
    received = [line for line in about if line["logger"] == "celery.worker.strategy"]
    ran = [line for line in about if line not in received]

    assert len(received) == 1
    assert [line["message"] for line in ran if line["message"].endswith(": succeeded")]
    assert any(line["logger"] == "celery.app.trace" for line in ran)  # Celery's "succeeded in" line
    assert ran
    assert all(line.get("traceparent") == TRACEPARENT for line in ran)
    others = [line for line in lines if line.get("job_id") not in {None, deployment.traced}]
    assert others
    assert all("traceparent" not in line for line in others)
