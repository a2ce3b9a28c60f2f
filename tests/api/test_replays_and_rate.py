"""Issue 18 item 11: an idempotent replay is not a submission: the rate limit does not count it."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from redis import Redis

from tests.api.conftest import AppFor
from tests.api.test_auth import bearer, make_key
from tests.api.test_edges import secure_client

IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}}


def _post(client: FlaskClient, key: str, idem: str, path: str = "/v1/jobs", body: object = IMAGE) -> int:
    response = client.post(path, json=body, headers={**bearer(key), "Idempotency-Key": idem})
    response.close()
    return response.status_code


@pytest.mark.parametrize("retries", [1, 5])
def test_retries_of_a_created_job_never_get_429(app_for: AppFor, redis_client: Redis, retries: int) -> None:
    client = secure_client(app_for)
    key = make_key(client, jobs_per_minute=2)["key"]
    assert _post(client, key, "first") == 202
    assert [_post(client, key, "first") for _ in range(retries)] == [200] * retries
    # The replays left the second submission of the minute for a new job.
    assert _post(client, key, "second") == 202
    assert _post(client, key, "second") == 200  # even with the minute's rate used up
    assert _post(client, key, "third") == 429


def test_a_key_reused_for_another_body_is_refused_without_counting(
    app_for: AppFor, redis_client: Redis
) -> None:
    client = secure_client(app_for)
    key = make_key(client, jobs_per_minute=2)["key"]
    assert _post(client, key, "k") == 202
    other = {**IMAGE, "input": {**IMAGE["input"], "prompt": "a blue fox"}}  # type: ignore[dict-item]
    assert [_post(client, key, "k", body=other) for _ in range(3)] == [422] * 3
    assert _post(client, key, "fresh") == 202
