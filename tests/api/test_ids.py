"""Issue 18 item 6: an id that is not an id is unknown (404) on every route, and never part of a key name."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from redis import Redis

from shared import ids, redis_keys
from shared.errors import NotFoundError
from tests.api.conftest import AppFor

IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}}
JOB_ROUTES = [
    ("GET", "/v1/jobs/{}"),
    ("POST", "/v1/jobs/{}/cancel"),
    ("GET", "/v1/jobs/{}/events"),
    ("GET", "/v1/jobs/{}/result"),
    ("GET", "/v1/jobs/{}/result/0"),
    ("GET", "/v1/jobs/{}/webhooks"),
]
KEY_ROUTES = [("GET", "/v1/keys/{}"), ("DELETE", "/v1/keys/{}")]
SUFFIXES = [":events", ":webhooks", "*", "\n", " ", "%", ":", "X"]


def _ask(client: FlaskClient, method: str, route: str, some_id: str) -> tuple[int, dict[str, object]]:
    response = client.open(route.format(quote(some_id, safe="")), method=method)
    try:
        return response.status_code, response.get_json()
    finally:
        response.close()


@pytest.mark.parametrize(("method", "route"), JOB_ROUTES)
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_an_existing_job_id_with_a_suffix_is_unknown(
    app_for: AppFor, method: str, route: str, suffix: str
) -> None:
    # Before, "<id>:events" read the job's event stream as its record: 500 for a job that exists and
    # 404 for one that does not, an oracle across tenants.
    client = app_for().test_client()
    job_id = client.post("/v1/jobs", json=IMAGE).get_json()["id"]
    status, body = _ask(client, method, route, job_id + suffix)
    assert status == 404, body
    assert body["code"] == "not_found"


@pytest.mark.parametrize(("method", "route"), JOB_ROUTES + KEY_ROUTES)
def test_no_text_as_an_id_answers_anything_but_404(app_for: AppFor, method: str, route: str) -> None:
    client = app_for().test_client()

    @given(
        some_id=st.text(
            st.characters(exclude_characters="/", exclude_categories=("Cs",)), min_size=1, max_size=60
        )
    )
    @example(some_id="0f8fad5b-d9cb-469f-a165-70867728950e:events")
    @example(some_id="abcdefabcdef:active")
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(some_id: str) -> None:
        status, body = _ask(client, method, route, some_id)
        assert status == 404, (some_id, body)

    check()


@given(st.text(max_size=80))
def test_a_key_name_is_built_only_from_an_id_shaped_part(text: str) -> None:
    for build in (
        redis_keys.job,
        redis_keys.events,
        redis_keys.webhook_attempts,
        redis_keys.api_key,
        redis_keys.key_active_jobs,
    ):
        try:
            name = build(text)
        except NotFoundError:
            continue
        assert name.count(":") == build("x").count(":")
        assert not set(text) & set(":*?[]\\ \r\n")


@given(st.uuids(version=4))
def test_every_job_id_the_api_makes_has_the_shape(value: object) -> None:
    assert ids.is_job_id(str(value))


def test_the_store_refuses_a_malformed_id_as_unknown(redis_client: Redis) -> None:
    with pytest.raises(NotFoundError):
        redis_keys.job("0f8fad5b-d9cb-469f-a165-70867728950e:events")
