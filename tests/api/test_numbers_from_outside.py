"""Issue 18 item 4: no header or query string number answers 5xx, whatever its spelling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from shared.settings import Limits
from tests.api.conftest import AppFor

IMAGE = {"type": "image", "input": {"prompt": "a red fox", "width": 64, "height": 64, "steps": 1}}
# What a header can carry (latin-1, no line breaks), with the spellings int() and float() trip on.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
QUERY_TEXT = st.text(max_size=40)
ODD = ("²", "١٢", "1e999", "nan", "9" * 5000, "١-١", "²-0", "1_0")

Ask = Callable[[FlaskClient, str, str], TestResponse]


def _asks(job_id: str) -> dict[str, Ask]:
    return {
        "limit": lambda c, _, v: c.get("/v1/jobs", query_string={"limit": v}),
        "before": lambda c, _, v: c.get("/v1/jobs", query_string={"before": v}),
        "wait": lambda c, _, v: c.get(f"/v1/jobs/{job_id}", query_string={"wait": v}),
        "after": lambda c, _, v: c.get(f"/v1/jobs/{job_id}/events", query_string={"after": v}),
        "Last-Event-ID": lambda c, _, v: c.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": v}),
        "Prefer": lambda c, _, v: c.post("/v1/jobs", json=IMAGE, headers={"Prefer": f"wait={v}"}),
        "Cancel-After": lambda c, _, v: c.post("/v1/jobs", json=IMAGE, headers={"Cancel-After": v}),
    }


@pytest.mark.parametrize(
    "name", ["limit", "before", "wait", "after", "Last-Event-ID", "Prefer", "Cancel-After"]
)
def test_no_spelling_of_a_number_answers_5xx(app_for: AppFor, name: str) -> None:
    # No waiting: a long-wait or Prefer: wait that passes is held to 0 s.
    client = app_for(limits=Limits(max_wait_s=0, queue_max_waiting=100_000)).test_client()
    job_id = client.post("/v1/jobs", json=IMAGE).get_json()["id"]
    client.post(f"/v1/jobs/{job_id}/cancel")  # ended: a stream of its events ends at once
    ask = _asks(job_id)[name]
    text = HEADER_TEXT if name[0].isupper() else QUERY_TEXT

    @given(value=text)
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def check(value: str) -> None:
        response = ask(client, name, value)
        response.close()
        assert response.status_code < 500, (name, value, response.get_data(as_text=True)[:300])

    for odd in ODD:
        check = example(value=odd)(check)
    check()


def test_a_malformed_cancel_after_is_refused_even_beside_deadline_s(app_for: AppFor) -> None:
    # The fuzzer found it: with deadline_s in the body, Cancel-After was not read at all.
    client = app_for().test_client()
    body = {**IMAGE, "deadline_s": 5}
    for bad in ("", "soon", "²"):
        response = client.post("/v1/jobs", json=body, headers={"Cancel-After": bad})
        assert response.status_code == 422, bad
        assert response.get_json()["errors"][0]["field"] == "Cancel-After"
