"""Each field of the OpenAI-compatible bodies, and their errors in OpenAI's shape (on Redis, no worker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr

from api import create_app
from api.openai.streaming import job_events
from shared.settings import Limits, OpenAIModel, Settings
from shared.vocabulary import JobType

ADMIN = "fields-admin-key"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(
        settings.model_copy(update={"auth": "on", "admin_key": SecretStr(ADMIN), "openai_wait_s": 1})
    )
    yield app
    app.extensions["llmb"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def chat(client: FlaskClient, **fields: Any) -> Any:
    """POST a streamed chat with these fields, closing the stream at once (its job is then canceled)."""
    body = {"model": "tiny-chat", "messages": HI, "stream": True, **fields}
    response = client.post("/v1/chat/completions", json=body, headers=AUTH)
    response.close()
    return response


@pytest.mark.parametrize(
    "fields",
    [
        {"n": 1},
        {"frequency_penalty": 0},
        {"presence_penalty": 0.0},
        {"logprobs": False},
        {"top_logprobs": 0},
        {"logit_bias": {}},
        {"user": "someone"},
        {"response_format": {"type": "text"}},
        {"tools": []},
        {"tool_choice": "none"},
        {"parallel_tool_calls": False},
        {"stream_options": {"include_usage": True}},
        {"store": False},
        {"service_tier": "default"},
        {"modalities": ["text"]},
        {"metadata": {"a": "b"}},
        {"safety_identifier": "x", "prompt_cache_key": "k"},
        {"audio": None, "prediction": None, "functions": None},
        {"max_completion_tokens": 8},
        {"max_tokens": 8, "max_completion_tokens": 8},
        {"stop": "x"},
        {"stop": ["a", "b"], "seed": 3, "temperature": 0, "top_p": 0.5},
        {"messages": [{"role": "developer", "content": [{"type": "text", "text": "x"}]}, *HI]},
    ],
)
def test_fields_tools_send_by_habit_are_accepted(client: FlaskClient, fields: dict[str, Any]) -> None:
    response = chat(client, **fields)
    assert response.status_code == 200, response.get_json()
    assert response.headers["X-Job-Id"]


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"n": 3}, "n", "unsupported_value"),
        ({"n": True}, "n", "unsupported_value"),
        ({"frequency_penalty": 0.1}, "frequency_penalty", "unsupported_value"),
        ({"logprobs": True}, "logprobs", "unsupported_value"),
        ({"logit_bias": {"1": 5}}, "logit_bias", "unsupported_value"),
        ({"response_format": {"type": "json_schema"}}, "response_format", "unsupported_value"),
        ({"tools": [{"type": "function"}]}, "tools", "unsupported_value"),
        ({"tool_choice": "required"}, "tool_choice", "unsupported_value"),
        ({"reasoning_effort": "low"}, "reasoning_effort", "unsupported_value"),
        (
            {"stream_options": {"include_obfuscation": True}},
            "stream_options.include_obfuscation",
            "unsupported_value",
        ),
        ({"best_of": 2}, "best_of", "unknown_parameter"),
        ({"max_tokens": 8, "max_completion_tokens": 9}, "max_completion_tokens", "invalid_value"),
        ({"max_completion_tokens": 0}, "max_completion_tokens", "invalid_value"),
        ({"temperature": 3}, "temperature", "invalid_value"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "invalid_value"),
        ({"seed": -1}, "seed", "invalid_value"),
        ({"messages": []}, "messages", "invalid_value"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role", "invalid_value"),
        (
            {"messages": [{"role": "user", "content": "x", "name": "n"}]},
            "messages[0].name",
            "unknown_parameter",
        ),
        ({"messages": [{"role": "user", "content": "a\x00"}]}, "messages[0].content", "invalid_value"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "messages[0].content[0].type",
            "invalid_value",
        ),
        ({"model": None}, "model", "invalid_value"),
    ],
)
def test_what_cannot_be_honoured_is_a_400_naming_the_field(
    client: FlaskClient, fields: dict[str, Any], param: str, code: str
) -> None:
    response = chat(client, **fields)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)
    assert "X-Job-Id" not in response.headers  # refused before any job was made


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": ["a", ""]}, "input[1]"),
        ("/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": [1, 2]}, "input"),
        (
            "/v1/embeddings",
            {"model": "all-MiniLM-L6-v2", "input": "a", "encoding_format": "hex"},
            "encoding_format",
        ),
        ("/v1/embeddings", {"model": "all-MiniLM-L6-v2", "input": "a", "dimensions": 3}, "dimensions"),
        ("/v1/images/generations", {"prompt": "fox", "size": "100x100"}, "size"),
        ("/v1/images/generations", {"prompt": "fox", "size": "huge"}, "size"),
        ("/v1/images/generations", {"prompt": "fox", "n": 9}, "n"),
        ("/v1/images/generations", {"prompt": "fox", "quality": "hd"}, "quality"),
        ("/v1/images/generations", {"prompt": "fox", "response_format": "svg"}, "response_format"),
        ("/v1/images/generations", {"prompt": ""}, "prompt"),
    ],
)
def test_embeddings_and_images_name_the_field_they_refuse(
    client: FlaskClient, path: str, body: dict[str, Any], param: str
) -> None:
    response = client.post(path, json=body, headers=AUTH)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["param"] == param


def test_errors_keep_openais_shape_on_these_routes_and_problem_json_on_native_ones(
    client: FlaskClient,
) -> None:
    unauthorized = client.post("/v1/chat/completions", json={"model": "tiny-chat", "messages": HI})
    assert unauthorized.status_code == 401
    assert unauthorized.get_json()["error"]["type"] == "authentication_error"
    native = client.post("/v1/jobs", json={"type": "chat", "input": {"messages": HI}})
    assert native.status_code == 401
    assert native.content_type == "application/problem+json"
    as_text = client.post("/v1/embeddings", data="x", content_type="text/plain", headers=AUTH)
    assert as_text.status_code == 415
    assert as_text.get_json()["error"]["code"] == "unsupported_media_type"
    too_big = client.post(
        "/v1/embeddings", data=b"x" * (2 << 20), content_type="application/json", headers=AUTH
    )
    assert too_big.status_code == 413
    assert too_big.get_json()["error"]["code"] == "body_too_large"
    unknown = client.get("/v1/models/nope", headers=AUTH)
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == {
        "message": "the model 'nope' does not exist here",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_a_job_that_outlives_the_wait_is_a_504_naming_it_and_goes_on(client: FlaskClient) -> None:
    body = {"model": "all-MiniLM-L6-v2", "input": "a"}
    response = client.post("/v1/embeddings", json=body, headers=AUTH)  # no worker: it waits its 1 s
    assert response.status_code == 504
    job_id = response.headers["X-Job-Id"]
    assert response.get_json()["error"]["job_id"] == job_id
    assert response.headers["X-Should-Retry"] == "false"
    assert client.get(f"/v1/jobs/{job_id}", headers=AUTH).get_json()["status"] == "queued"


def test_an_idempotency_key_answers_the_same_job_and_refuses_another_body(client: FlaskClient) -> None:
    keyed = {**AUTH, "Idempotency-Key": "k-1"}
    first = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": "a"}, headers=keyed)
    assert first.status_code == 504
    assert first.headers["X-Should-Retry"] == "true"  # a retry waits on the same job
    again = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": "a"}, headers=keyed)
    assert again.headers["X-Job-Id"] == first.headers["X-Job-Id"]
    other = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": "b"}, headers=keyed)
    assert other.status_code == 422
    assert other.get_json()["error"]["param"] == "Idempotency-Key"


def test_models_come_from_settings_and_any_alias_picks_its_queue(settings: Settings) -> None:
    models = (
        OpenAIModel(id="gpt-4o-mini", type=JobType.CHAT),
        OpenAIModel(id="Qwen/Qwen2.5-0.5B-Instruct", type=JobType.CHAT),
        OpenAIModel(id="text-embedding-3-small", type=JobType.EMBED, dimensions=384),
    )
    app = create_app(settings.model_copy(update={"openai_models": models, "limits": Limits(max_wait_s=1)}))
    try:
        client = app.test_client()
        listed = client.get("/v1/models").get_json()
        assert [m["id"] for m in listed["data"]] == [m.id for m in models]
        assert client.get("/v1/models/Qwen/Qwen2.5-0.5B-Instruct").get_json()["job_type"] == "chat"
        streamed = client.post(
            "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": HI, "stream": True}
        )
        job_id = streamed.headers["X-Job-Id"]
        streamed.close()
        assert client.get(f"/v1/jobs/{job_id}").get_json()["type"] == "chat"
        images = client.post("/v1/images/generations", json={"prompt": "fox"})
        assert images.status_code == 404  # this deployment lists no image model
    finally:
        app.extensions["llmb"].close()


def test_default_models_follow_the_model_settings(settings: Settings) -> None:
    assert [(m.id, m.type) for m in settings.served_models] == [
        ("tiny-sd", JobType.IMAGE),
        ("tiny-chat", JobType.CHAT),
        ("all-MiniLM-L6-v2", JobType.EMBED),
    ]
    deployed = settings.model_copy(
        update={"chat_model": "Qwen/Qwen2.5-0.5B-Instruct", "image_model": "/m/sd-turbo"}
    )
    assert [m.id for m in deployed.served_models] == [
        "sd-turbo",
        "Qwen/Qwen2.5-0.5B-Instruct",
        "all-MiniLM-L6-v2",
    ]


def test_a_quiet_job_stream_says_so_then_ends_with_the_job(app: Flask, client: FlaskClient) -> None:
    created = client.post("/v1/jobs", json={"type": "chat", "input": {"messages": HI}}, headers=AUTH)
    job_id = created.get_json()["id"]
    events = job_events(app.extensions["llmb"], job_id, keepalive_s=0.05)
    assert next(events).data["status"] == "queued"  # type: ignore[union-attr]
    assert next(events) is None  # nothing for 0.05 s: the stream writes a keep-alive comment
    client.post(f"/v1/jobs/{job_id}/cancel", headers=AUTH)
    rest = [e for e in events if e is not None]
    assert rest[-1].terminal
    assert rest[-1].data["status"] == "canceled"
