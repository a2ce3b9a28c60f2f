"""Batch files and batches for the scenarios, and issue 21's first one: a big chat batch uploaded, created and
enqueued, with the memory of the API worker that took it and of the runner."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from devtools.bench.api.report import Row
from devtools.bench.queueing.client import IMAGE_INPUT, Api, RefusedError
from devtools.bench.queueing.memory import PeakRss, gunicorn_worker
from shared.store.batches import ENDED, BatchStore

POLL_S = 0.02
RSS_TARGET_MIB = 20.0


def chat_lines(n: int, model: str) -> bytes:
    """A JSONL batch file of `n` one-token chat requests."""
    body = {"model": model, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 1}
    return _lines(n, "/v1/chat/completions", body)


def image_lines(n: int, model: str) -> bytes:
    """A JSONL batch file of `n` requests for the scenarios' scripted image (the same input as IMAGE_JOB)."""
    size = f"{IMAGE_INPUT['width']}x{IMAGE_INPUT['height']}"
    body = {"model": model, "prompt": IMAGE_INPUT["prompt"], "size": size, "steps": IMAGE_INPUT["steps"]}
    return _lines(n, "/v1/images/generations", body)


def _lines(n: int, url: str, body: dict[str, Any]) -> bytes:
    rows = (json.dumps({"custom_id": f"r{i}", "method": "POST", "url": url, "body": body}) for i in range(n))
    return ("\n".join(rows) + "\n").encode()


def create(api: Api, file_id: str, endpoint: str) -> str:
    """POST /v1/batches for an uploaded file: the batch's id."""
    body = {"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"}
    batch_id: str = api.call("POST", "/v1/batches", body)["id"]
    return batch_id


def wait_enqueued(store: BatchStore, batch_id: str, timeout: float) -> int:
    """Wait until the runner has an outcome (a job, or a refusal) for every line; the batch's total."""
    deadline = time.monotonic() + timeout
    while True:
        record, _ = store.load(batch_id)
        if record.status in ENDED and record.total == 0:
            raise RuntimeError(f"batch {batch_id} ended {record.status}: {record.errors}")
        if record.total and store.line_count(batch_id) >= record.total:
            return record.total
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"batch {batch_id}: {store.line_count(batch_id)} lines enqueued after {timeout} s"
            )
        time.sleep(POLL_S)


def cancel(api: Api, store: BatchStore, batch_id: str, timeout: float) -> float:
    """Cancel the batch (unless it already ended) and wait until it has ended; the seconds that took."""
    start = time.monotonic()
    if store.load(batch_id)[0].status not in ENDED:
        api.call("POST", f"/v1/batches/{batch_id}/cancel")
    wait_ended_batch(store, batch_id, timeout)
    return time.monotonic() - start


def wait_ended_batch(store: BatchStore, batch_id: str, timeout: float) -> str:
    """Wait until the batch has ended (completed, failed, expired, cancelled); its status."""
    deadline = time.monotonic() + timeout
    while (status := store.load(batch_id)[0].status) not in ENDED:
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch {batch_id} was still {status} after {timeout} s")
        time.sleep(POLL_S * 5)
    return status


@dataclass(frozen=True)
class Upload:
    """Where a batch's upload and enqueue were measured."""

    api: Api
    store: BatchStore
    api_master_pid: int
    runner_pid: int
    chat_model: str


def warm_up(up: Upload, timeout: float) -> None:
    """A 10-line chat batch through upload, create, enqueue and cancel, so first-use costs are paid."""
    warm = create(up.api, up.api.upload(chat_lines(10, up.chat_model)), "/v1/chat/completions")
    wait_enqueued(up.store, warm, timeout)
    cancel(up.api, up.store, warm, timeout)


def api_rss_row(peak: PeakRss) -> Row:
    """The API worker's peak RSS growth over the upload, held to RSS_TARGET_MIB."""
    growth, target = peak.growth_mib, f"target ≤ +{RSS_TARGET_MIB:g} MiB ({peak.how})"
    metric = "API worker peak RSS growth over the upload"
    return Row(metric, f"+{growth:.1f} MiB", target, growth / RSS_TARGET_MIB, growth <= RSS_TARGET_MIB)


def _upload(api: Api, data: bytes) -> tuple[str, str]:
    """The uploaded file's id, or "" and why the API refused it."""
    try:
        return api.upload(data), ""
    except RefusedError as exc:
        return "", str(exc)


def enqueue_rows(up: Upload, n: int, timeout: float) -> list[Row]:
    """Upload and create an `n`-line chat batch no worker serves; lines/s enqueued and RSS growths."""
    api = up.api
    warm_up(up, timeout)
    data = chat_lines(n, up.chat_model)
    with PeakRss(gunicorn_worker(up.api_master_pid)) as api_rss:
        t0 = time.monotonic()
        file_id, refused = _upload(api, data)
        upload_s = time.monotonic() - t0
    if not file_id:  # a finding to report (a file refused below its cap), not a crash
        return [
            Row(f"{n:,}-line chat batch ({len(data) / 2**20:.1f} MiB) uploaded", f"n/a: {refused}", ok=False)
        ]
    with PeakRss(up.runner_pid) as runner_rss:
        t0 = time.monotonic()
        batch_id = create(api, file_id, "/v1/chat/completions")
        total = wait_enqueued(up.store, batch_id, timeout)
        enqueue_s = time.monotonic() - t0
    waiting = api.waiting("chat")
    cancel_s = cancel(api, up.store, batch_id, timeout)
    return [
        Row(
            f"{n:,}-line chat batch (max_tokens 1): lines enqueued/s, create → every line a job",
            f"{total / enqueue_s:,.0f} lines/s ({total:,} in {enqueue_s:.1f} s)",
        ),
        Row(f"  POST /v1/files of its {len(data) / 2**20:.1f} MiB", f"{upload_s * 1000:,.0f} ms"),
        api_rss_row(api_rss),
        Row(
            "batch runner peak RSS growth, create → every line a job",
            f"+{runner_rss.growth_mib:.1f} MiB",
            runner_rss.how,
        ),
        Row(
            "  its lines waiting in the chat queue after it", f"{waiting:,} of {total:,}", ok=waiting >= total
        ),
        Row("  POST /v1/batches/{id}/cancel → cancelled", f"{cancel_s:.1f} s"),
    ]
