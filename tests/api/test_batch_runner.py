"""The batch runner's turns against a real Redis, with no worker: chunks, a full queue, restarts, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from pydantic import SecretStr
from redis import Redis

from api.batches.runner import Runner
from devtools.stack.process import Service
from shared import redis_keys
from shared.limits import Limits
from shared.storage import open_storage
from shared.store.batches import BatchStore, lines_key
from shared.store.files import FileStore
from shared.vocabulary import JobType
from tests.api.conftest import AppFor
from tests.api.test_auth import ADMIN, bearer, make_key
from tests.api.test_files import upload
from tests.conftest import s3_settings_for


def embed_line(i: int) -> bytes:
    body = {
        "custom_id": f"e{i}",
        "method": "POST",
        "url": "/v1/embeddings",
        "body": {"model": "all-MiniLM-L6-v2", "input": f"text {i}"},
    }
    return json.dumps(body).encode() + b"\n"


def runner_for(app: Flask) -> Runner:
    svc = app.extensions["llmb"]
    objects = open_storage(svc.settings)
    return Runner(app, BatchStore.on(svc.pool), FileStore.on(svc.pool), objects, "http://127.0.0.1:8000")


def start(app: Flask, data: bytes, **key_limits: int) -> tuple[str, str]:
    client = app.test_client()
    key = make_key(client, **key_limits)["key"]
    file_id = upload(client, key, data).get_json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/embeddings", "completion_window": "24h"}
    return key, client.post("/v1/batches", json=body, headers=bearer(key)).get_json()["id"]


@pytest.mark.parametrize(
    "full",
    [Limits(queue_max_waiting=2), Limits(tenant_max_waiting=2)],
    ids=["the queue's cap", "the tenant's cap"],
)
def test_a_full_queue_pauses_the_batch_and_a_restart_makes_no_second_job(
    app_for: AppFor, redis_client: Redis, full: Limits
) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN), limits=full)
    bad = (
        b'{"custom_id": "bad", "url": "/v1/embeddings", "body": {"model": "all-MiniLM-L6-v2", "input": []}}\n'
    )
    key, batch_id = start(app, bad + b"".join(embed_line(i) for i in range(5)))
    runner = runner_for(app)
    runner.step(batch_id)
    runner.step(batch_id)  # the queue is still full: nothing more
    waiting = redis_keys.waiting(JobType.EMBED)
    assert redis_client.zcard(waiting) == 2
    assert redis_client.llen(lines_key(batch_id)) == 3  # the refused line, then two jobs
    job = app.test_client().get(
        f"/v1/jobs/{redis_client.lindex(lines_key(batch_id), 1).decode()[2:]}", headers=bearer(key)
    )
    assert (job.get_json()["priority"], job.get_json()["batch_id"]) == ("batch", batch_id)
    # A runner that died after enqueuing two lines but before recording them finds the same jobs again.
    redis_client.ltrim(lines_key(batch_id), 0, 0)
    redis_client.hset(f"llmb:batch:{batch_id}", "offset", len(bad))
    runner_for(app).step(batch_id)
    assert redis_client.zcard(waiting) == 2
    assert redis_client.llen(lines_key(batch_id)) == 3
    seen = app.test_client().get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    assert (seen["status"], seen["request_counts"]) == (
        "in_progress",
        {"total": 6, "completed": 0, "failed": 1},
    )


def test_a_cancelled_batch_cancels_its_queued_lines_and_lists_every_line_once(
    app_for: AppFor, redis_client: Redis
) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN), limits=Limits(queue_max_waiting=2))
    key, batch_id = start(app, b"".join(embed_line(i) for i in range(4)))
    runner = runner_for(app)
    runner.step(batch_id)
    client = app.test_client()
    assert (
        client.post(f"/v1/batches/{batch_id}/cancel", headers=bearer(key)).get_json()["status"]
        == "cancelling"
    )
    runner.step(batch_id)  # cancels the queued lines
    runner.step(batch_id)  # sees them ended: finalizes
    batch = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    assert (batch["status"], batch["output_file_id"]) == ("cancelled", None)
    assert redis_client.zcard(redis_keys.waiting(JobType.EMBED)) == 0
    errors = client.get(f"/v1/files/{batch['error_file_id']}/content", headers=bearer(key)).data.splitlines()
    assert [json.loads(e)["custom_id"] for e in errors] == ["e0", "e1", "e2", "e3"]
    assert {json.loads(e)["error"]["code"] for e in errors} == {"batch_cancelled"}
    assert (
        client.post(f"/v1/batches/{batch_id}/cancel", headers=bearer(key)).get_json()["status"] == "cancelled"
    )


def test_a_batch_of_refused_lines_completes_at_once_and_cannot_be_cancelled(app_for: AppFor) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN))
    refused = b'{"custom_id": "x", "url": "/v1/chat/completions", "body": {}}\n'
    key, batch_id = start(app, refused)
    runner_for(app).step(batch_id)
    client = app.test_client()
    batch = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    assert (batch["status"], batch["request_counts"]) == (
        "completed",
        {"total": 1, "completed": 0, "failed": 1},
    )
    line = json.loads(client.get(f"/v1/files/{batch['error_file_id']}/content", headers=bearer(key)).data)
    assert (line["custom_id"], line["response"]["status_code"]) == ("x", 400)
    assert line["response"]["body"]["error"]["param"] == "url"
    late = client.post(f"/v1/batches/{batch_id}/cancel", headers=bearer(key))
    assert (late.status_code, late.get_json()["error"]["type"]) == (409, "invalid_request_error")


def test_a_batch_whose_file_is_gone_fails_naming_it(app_for: AppFor) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN))
    key, batch_id = start(app, embed_line(0))
    client = app.test_client()
    file_id = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()["input_file_id"]
    assert client.delete(f"/v1/files/{file_id}", headers=bearer(key)).status_code == 200
    runner_for(app).step(batch_id)
    batch = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    assert batch["status"] == "failed"
    assert batch["failed_at"] is not None
    assert batch["errors"]["data"][0]["param"] == "input_file_id"
    assert batch["id"] not in runner_for(app).batches.active()


def test_files_and_a_batch_s_files_live_in_s3(
    app_for: AppFor, s3_service: Service, redis_url: str, redis_client: Redis, tmp_path: Path
) -> None:
    settings = s3_settings_for(s3_service, tmp_path, redis_url, auth="on", admin_key=SecretStr(ADMIN))
    app = app_for(settings)
    refused = b'{"custom_id": "x", "url": "/v1/embeddings", "body": {"model": "all-MiniLM-L6-v2"}}\n'
    key, batch_id = start(app, refused)
    client = app.test_client()
    batch = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    assert client.get(f"/v1/files/{batch['input_file_id']}/content", headers=bearer(key)).data == refused
    runner_for(app).step(batch_id)
    batch = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    line = json.loads(client.get(f"/v1/files/{batch['error_file_id']}/content", headers=bearer(key)).data)
    assert line["response"]["body"]["error"]["param"] == "input"
    assert client.delete(f"/v1/files/{batch['error_file_id']}", headers=bearer(key)).status_code == 200
    assert open_storage(settings).delete_prefix("files/") == 1  # only the input file's bytes are left


def test_the_key_s_own_active_job_cap_paces_its_batch(app_for: AppFor, redis_client: Redis) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN))
    _, batch_id = start(app, b"".join(embed_line(i) for i in range(4)), max_active_jobs=2)
    runner_for(app).step(batch_id)
    assert redis_client.zcard(redis_keys.waiting(JobType.EMBED)) == 2
    assert redis_client.llen(lines_key(batch_id)) == 2


def test_a_restarted_runner_fails_a_batch_whose_file_was_deleted_meanwhile(app_for: AppFor) -> None:
    app = app_for(auth="on", admin_key=SecretStr(ADMIN))
    key, batch_id = start(app, embed_line(0))
    runner_for(app).step(batch_id)
    client = app.test_client()
    file_id = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()["input_file_id"]
    assert client.delete(f"/v1/files/{file_id}", headers=bearer(key)).status_code == 200
    runner = runner_for(app)
    runner.step(batch_id)
    batch = client.get(f"/v1/batches/{batch_id}", headers=bearer(key)).get_json()
    assert (batch["status"], batch["errors"]["data"][0]["code"]) == ("failed", "invalid_file")
    assert batch_id not in runner.batches.active()
