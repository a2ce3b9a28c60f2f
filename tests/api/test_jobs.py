from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from shared.settings import Limits
from tests.api.conftest import AppFor

IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 128, "height": 96, "steps": 2}}


def post(client: FlaskClient, body: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    kwargs.setdefault("content_type", "application/json")
    return client.post("/v1/jobs", data=data, **kwargs)


def test_submit_answers_202_with_the_job_and_its_location(client: FlaskClient, redis_client: Redis) -> None:
    response = post(client, IMAGE)
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "queued"
    assert job["queue_position"] == 1
    assert job["input"] == {**IMAGE["input"], "guidance_scale": 7.5, "num_images": 1}
    assert job["links"]["self"].endswith(f"/v1/jobs/{job['id']}")
    assert redis_client.llen("image") == 1


def test_get_returns_the_job_and_404_for_unknown_ids(client: FlaskClient) -> None:
    job = post(client, IMAGE).get_json()
    assert client.get(f"/v1/jobs/{job['id']}").get_json()["id"] == job["id"]
    missing = client.get("/v1/jobs/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"
    assert missing.get_json()["code"] == "not_found"


BAD_BODIES = [
    ("not json", 400, "body"),
    ("[1, 2]", 422, "body"),
    ({"type": "video", "input": {}}, 422, "type"),
    ({"type": "image"}, 422, "input"),
    ({**IMAGE, "status": "succeeded"}, 422, "status"),
    ({**IMAGE, "owner": "someone"}, 422, "owner"),
    ({**IMAGE, "attempts": 0}, 422, "attempts"),
    ({"type": "image", "input": {**IMAGE["input"], "width": 4096}}, 422, "input.width"),
    ({"type": "image", "input": {**IMAGE["input"], "steps": 0}}, 422, "input.steps"),
    ({"type": "image", "input": {**IMAGE["input"], "steps": "2"}}, 422, "input.steps"),
    ({"type": "image", "input": {**IMAGE["input"], "nsfw": True}}, 422, "input.nsfw"),
    ({"type": "chat", "input": {"messages": "hi"}}, 422, "input.messages"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_BODIES)
def test_bad_input_is_a_problem_naming_the_field_and_enqueues_nothing(
    client: FlaskClient, redis_client: Redis, body: Any, status: int, field: str
) -> None:
    response = post(client, body)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    assert field in [e["field"] for e in problem["errors"]]
    assert redis_client.llen("image") == 0
    assert redis_client.dbsize() == 0


def test_a_body_over_the_limit_is_413(client: FlaskClient, redis_client: Redis) -> None:
    response = post(client, {"type": "image", "input": {"prompt": "x" * 2_000_000}})
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert "1048576 bytes" in response.get_json()["detail"]
    assert redis_client.dbsize() == 0


def test_wait_beyond_the_cap_is_rejected(client: FlaskClient) -> None:
    job = post(client, IMAGE).get_json()
    response = client.get(f"/v1/jobs/{job['id']}?wait=61")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "wait"


def test_prefer_wait_is_capped_and_reported(app_for: AppFor) -> None:
    client = app_for(limits=Limits(max_wait_s=1)).test_client()
    started = time.monotonic()
    response = post(client, IMAGE, headers={"Prefer": "respond-async, wait=600"})
    assert time.monotonic() - started < 30  # the cap of 1 s applied, not the 600 asked
    assert response.status_code == 202  # no worker here: still queued after the wait
    assert response.headers["Preference-Applied"] == "wait=1"


def test_cancel_a_queued_job_then_again_conflicts(client: FlaskClient) -> None:
    job = post(client, IMAGE).get_json()
    canceled = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert canceled.status_code == 200
    assert canceled.get_json()["status"] == "canceled"
    assert canceled.get_json()["queue_position"] is None
    again = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    assert again.get_json()["code"] == "conflict"
    assert client.post("/v1/jobs/nope/cancel").status_code == 404


def test_list_pages_through_the_callers_jobs(client: FlaskClient) -> None:
    ids = [post(client, IMAGE).get_json()["id"] for _ in range(5)]
    page = client.get("/v1/jobs?limit=2").get_json()
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:2]
    seen = [j["id"] for j in page["jobs"]]
    while page["next"]:
        page = client.get(page["next"]).get_json()
        seen += [j["id"] for j in page["jobs"]]
    assert seen == ids[::-1]
    assert client.get("/v1/jobs?limit=0").status_code == 422
    assert client.get("/v1/jobs?before=yesterday").status_code == 422


def test_queues_report_waiting_jobs(client: FlaskClient) -> None:
    post(client, IMAGE)
    queues = client.get("/v1/queues").get_json()["queues"]
    assert queues["image"] == {"waiting": 1, "running": 0, "workers": 0, "load": 1}
    assert set(queues) == {"image", "chat", "embed"}


def test_unknown_routes_and_methods_are_problems(client: FlaskClient) -> None:
    assert client.get("/v2/nothing").content_type == "application/problem+json"
    wrong = client.delete("/v1/jobs")
    assert wrong.status_code == 405
    assert wrong.content_type == "application/problem+json"
