from __future__ import annotations

import httpx
import pytest

from cli.client import ApiClient, ApiError
from tests.cli.fakes import API, JOB_ID, Recorder, job, problem

PNG = b"\x89PNG\r\n\x1a\nfake"


def client_for(handler: Recorder, *, api_key: str | None = "k-123", url: str = API) -> ApiClient:
    return ApiClient(url, api_key=api_key, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "target",
    [
        "http://s3.test:9000/llmb/results/j/0.png?X-Amz-Signature=abc",  # another host
        "http://api.test:9000/llmb/results/j/0.png?X-Amz-Signature=abc",  # same host, another port
        "https://api.test/llmb/results/j/0.png?X-Amz-Signature=abc",  # http -> https: httpx keeps the key
    ],
)
def test_result_follows_redirect_without_sending_the_key(target: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/"):
            return httpx.Response(302, headers={"location": target})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    recorder = Recorder(handle)
    body = client_for(recorder).result(JOB_ID, index=0)

    assert body.data == PNG
    assert body.content_type == "image/png"
    first, second = recorder.requests
    assert first.url == f"{API}/v1/jobs/{JOB_ID}/result/0"
    assert first.headers["authorization"] == "Bearer k-123"
    assert str(second.url) == target
    assert "authorization" not in second.headers


def test_same_origin_redirect_keeps_the_key() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/result"):
            return httpx.Response(302, headers={"location": "/v1/jobs/x/result/0"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    recorder = Recorder(handle)
    client_for(recorder).result("x")

    assert [r.headers.get("authorization") for r in recorder.requests] == ["Bearer k-123"] * 2


def test_no_key_no_authorization_header() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=job()))
    client_for(recorder, api_key=None).job(JOB_ID)
    assert "authorization" not in recorder.requests[0].headers


def test_problem_json_becomes_api_error() -> None:
    errors = [{"field": "input.width", "message": "must be between 64 and 1024", "type": "value_error"}]
    recorder = Recorder(
        lambda r: problem(422, "the image input is invalid", code="invalid_input", errors=errors)
    )

    with pytest.raises(ApiError) as info:
        client_for(recorder).submit("image", {"prompt": "p", "width": 4096})

    assert (info.value.status, info.value.code, info.value.detail) == (
        422,
        "invalid_input",
        "the image input is invalid",
    )
    assert info.value.errors == errors


def test_error_without_problem_body_names_status_and_host() -> None:
    recorder = Recorder(lambda r: httpx.Response(502, text="<html><h1>Bad Gateway</h1></html>"))

    with pytest.raises(ApiError) as info:
        client_for(recorder).job(JOB_ID)

    assert info.value.status == 502
    assert str(info.value) == "HTTP 502 Bad Gateway from http://api.test: <html><h1>Bad Gateway</h1></html>"


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            "unreachable",
            "the server at http://api.test is unreachable",
        ),
        (httpx.ReadTimeout("timed out"), "timeout", "no answer from http://api.test in time"),
        (
            httpx.RemoteProtocolError("peer closed"),
            "unreachable",
            "the server at http://api.test is unreachable",
        ),
    ],
)
def test_transport_failures_become_api_errors(error: httpx.RequestError, code: str, message: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(ApiError) as info:
        client_for(Recorder(handle)).job(JOB_ID)

    assert (info.value.status, info.value.code) == (0, code)
    assert str(info.value).startswith(message)


def test_long_wait_asks_the_server_to_hold_and_allows_for_it() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=job()))
    client = ApiClient(API, timeout=5, transport=httpx.MockTransport(recorder))

    client.job(JOB_ID, wait_s=2)

    request = recorder.requests[0]
    assert request.url.params["wait"] == "2"
    assert request.extensions["timeout"]["read"] == 7


def test_ids_cannot_escape_their_path_segment() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=job()))
    client_for(recorder).cancel("../../v1/queues")
    assert recorder.requests[0].url.raw_path == b"/v1/jobs/..%2F..%2Fv1%2Fqueues/cancel"


def test_base_url_with_a_path_prefix_is_kept() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={"jobs": [], "next": None}))
    client_for(recorder, url="http://gw.test/llmb/").jobs(limit=5)
    assert str(recorder.requests[0].url) == "http://gw.test/llmb/v1/jobs?limit=5"
