"""Every 4xx validation message is a sentence of ours naming the field and what it takes: each field of
each job type and of the OpenAI routes, given each wrong kind of value, leaks no pydantic wording."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from shared.inputs import INPUT_SCHEMAS
from shared.messages import FALLBACK, say

# pydantic's own phrasing, and a Python repr of its errors, must never reach a client.
LIBRARY_WORDS = (
    "Input should",
    "Value error",
    "Field required",
    "Extra inputs",
    "Unable to extract",
    "discriminator",
    "validation error",
    "[{",
    "{'",
    "pydantic",
    "after validation",
    "Assertion failed",
)
WRONG = ["x", "", 1.5, -1, 10**12, None, True, [], [""], {}, {"a": 1}, "a\x00b"]
MINIMAL = {
    "image": {"prompt": "a fox"},
    "chat": {"messages": [{"role": "user", "content": "hi"}]},
    "embed": {"input": "a fox"},
}


def assert_ours(text: str) -> None:
    leaked = [w for w in LIBRARY_WORDS if w in text]
    assert not leaked, f"library wording {leaked} in {text!r}"


def assert_problem(answer: Any) -> None:
    body = answer.get_json()
    assert 400 <= answer.status_code < 500, body
    assert_ours(body["detail"])
    assert body["errors"], body
    for err in body["errors"]:
        assert err["field"]
        assert_ours(err["message"])
        assert err["message"] != FALLBACK, err  # every error type that occurs has its own sentence


@pytest.mark.parametrize("job_type", list(MINIMAL))
def test_every_input_field_given_a_wrong_value_is_named_in_our_words(
    client: FlaskClient, job_type: str
) -> None:
    schema = INPUT_SCHEMAS[job_type]  # type: ignore[index]
    tried = 0
    for name in schema.model_fields:
        for value in WRONG:
            answer = client.post(
                "/v1/jobs", json={"type": job_type, "input": {**MINIMAL[job_type], name: value}}
            )
            if answer.status_code == 202:
                continue  # a value this field takes
            assert answer.status_code == 422
            assert_problem(answer)
            assert any(e["field"].startswith(f"input.{name}") for e in answer.get_json()["errors"])
            tried += 1
    assert tried > 3 * len(schema.model_fields)


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"input": {"prompt": "x"}}, "type", "is required: one of image, chat, embed"),
        ({"type": "video", "input": {}}, "type", "must be one of 'image', 'chat', 'embed'"),
        ({"type": "image", "input": {"prompt": "x", "width": 100}}, "input.width", "must be a multiple of 8"),
        ({"type": "image", "input": {"prompt": "x", "width": "512"}}, "input.width", "must be an integer"),
        ({"type": "embed", "input": {"input": ["x" * 9000]}}, "input.input.0", "characters long"),
        ({"type": "embed", "input": {"input": 5}}, "input.input", "must be a string or an array"),
        ({"type": "image", "input": {"prompt": "x"}, "colour": 1}, "colour", "is not a field here"),
        ([1, 2], "body", "must be an object"),
    ],
)
def test_the_issue_s_cases_read_as_our_sentences(
    client: FlaskClient, body: Any, field: str, says: str
) -> None:
    answer = client.post("/v1/jobs", json=body)
    assert_problem(answer)
    errors = {e["field"]: e["message"] for e in answer.get_json()["errors"]}
    assert says in errors[field], errors


def test_a_body_that_is_not_json_says_where_it_breaks(client: FlaskClient) -> None:
    answer = client.post("/v1/jobs", data='{"type": "image",, }', content_type="application/json")
    assert answer.status_code == 400
    assert "line 1, column 18" in answer.get_json()["detail"]
    assert_problem(answer)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": "x" * 9000}),
        ("/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": 5}),
        ("/v1/images/generations", {"prompt": "x", "size": "100x100"}),
        ("/v1/chat/completions", {"model": "tiny-chat", "messages": [{"role": "user"}]}),
        ("/v1/chat/completions", {"model": "tiny-chat", "messages": [], "temperature": "hot"}),
    ],
)
def test_the_openai_routes_say_it_in_our_words_too(client: FlaskClient, path: str, body: Any) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 400
    assert_ours(answer.get_json()["error"]["message"])


def test_every_error_type_pydantic_can_raise_reads_as_ours() -> None:
    from typing import get_args

    from pydantic_core.core_schema import ErrorType

    for kind in get_args(ErrorType):
        said = say({"type": kind, "msg": "Input should be something", "ctx": {}})
        assert_ours(said)
        assert said.startswith(("must", "is", "has", "does not")), (kind, said)


@pytest.mark.parametrize(
    "webhook",
    [
        {"url": "ftp://x"},
        {"url": 5},
        {"url": "https://example.com/h", "events": ["nope"]},
        {"events": []},
        "x",
    ],
)
def test_the_webhook_fields_are_named_in_our_words(client: FlaskClient, webhook: Any) -> None:
    answer = client.post("/v1/jobs", json={"type": "embed", "input": {"input": "x"}, "webhook": webhook})
    assert answer.status_code == 422
    assert_problem(answer)
    assert all(e["field"].startswith("webhook") for e in answer.get_json()["errors"])
    assert "^" not in str(answer.get_json()["errors"])  # no regular expression for a person to read


def test_the_key_fields_are_named_in_our_words(app_for: Any) -> None:
    client = app_for(auth="on", admin_key=SecretStr("a" * 32)).test_client()
    admin = {"Authorization": f"Bearer {'a' * 32}"}
    bad = {"name": "", "scopes": ["root"], "expires_in_s": 0, "jobs_per_minute": "5", "tenant": 7}
    for field, value in bad.items():
        answer = client.post("/v1/keys", json={"name": "n", field: value}, headers=admin)
        assert answer.status_code == 422, answer.get_json()
        assert_problem(answer)
        assert [e["field"].split(".")[0] for e in answer.get_json()["errors"]] == [field]
