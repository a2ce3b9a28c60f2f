"""A refused key exits 8 saying what to do, naming the key by its id only; a limit says when to retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from cli.client import ApiClient, ApiError
from cli.problems import retry_after
from tests.cli.fakes import API, JOB_ID, problem, run_cli

KEY_ID = "k3yk3yk3yk3y"
SECRET = "s3cr3t-" * 6 + "x"  # 43 characters
KEY = f"llmb_{KEY_ID}_{SECRET}"
AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="llmb"'}
NO_KEY = "an API key is required: send the header Authorization: Bearer <key>"


def unauthorized(detail: str) -> httpx.Response:
    return problem(401, detail, code="unauthorized", headers=AUTHENTICATE)


@pytest.mark.parametrize("args", [["list"], ["status", JOB_ID], ["wait", JOB_ID], ["keys", "list"]])
def test_no_key_configured_says_how_to_give_one(args: list[str]) -> None:
    run = run_cli(lambda r: unauthorized(NO_KEY), *args)

    assert (run.code, run.out) == (8, "")
    assert run.err == "error: the server needs an API key: pass --api-key KEY or set LLMB_API_KEY\n"


@pytest.mark.parametrize(
    ("env", "args", "source"),
    [
        ({"LLMB_API_KEY": KEY}, ["list"], "LLMB_API_KEY"),
        ({}, ["--api-key", KEY, "list"], "--api-key"),
        ({"LLMB_API_KEY": "another"}, ["list", "--api-key", KEY], "--api-key"),
    ],
)
def test_a_refused_key_is_named_by_its_id_never_its_secret(
    env: dict[str, str], args: list[str], source: str
) -> None:
    run = run_cli(lambda r: unauthorized("the API key is revoked"), *args, env=env)

    assert run.code == 8
    assert run.err == f"error: the API key is revoked (sent llmb_{KEY_ID}_… from {source})\n"
    assert SECRET not in run.err + run.out


def test_a_key_without_an_id_is_not_shown_at_all() -> None:
    run = run_cli(lambda r: unauthorized("the API key is malformed"), "list", env={"LLMB_API_KEY": "hunter2"})

    assert run.code == 8
    assert run.err == (
        "error: the API key is malformed "
        "(sent a key that is not of the form llmb_<id>_<secret> from LLMB_API_KEY)\n"
    )
    assert "hunter2" not in run.err


def test_a_server_that_repeats_the_key_does_not_leak_it() -> None:
    run = run_cli(lambda r: unauthorized(f"bad key {KEY}"), "--api-key", KEY, "list")
    assert SECRET not in run.err
    assert run.err.startswith(f"error: bad key llmb_{KEY_ID}_… (sent llmb_{KEY_ID}_… from --api-key)")


def test_a_key_without_the_scope_exits_8_with_the_detail() -> None:
    refuse = problem(403, "this key lacks the scope jobs:write", code="forbidden")

    run = run_cli(lambda r: refuse, "--api-key", KEY, "submit", "image", "x")

    assert (run.code, run.out) == (8, "")
    assert run.err == f"error: this key lacks the scope jobs:write (sent llmb_{KEY_ID}_… from --api-key)\n"


@pytest.mark.parametrize(
    ("code", "detail"),
    [
        ("rate_limited", "this key may submit 10 jobs a minute; try again in 42 s"),
        ("too_many_active_jobs", "this key has 4 queued and running jobs, its cap"),
    ],
)
def test_a_limit_exits_5_saying_when_to_retry(code: str, detail: str) -> None:
    headers = {"Retry-After": "42", "RateLimit-Policy": '"jobs";q=10;w=60', "RateLimit": '"jobs";r=0;t=42'}
    answer = problem(429, detail, code=code, headers=headers)

    run = run_cli(lambda r: answer, "--api-key", KEY, "submit", "image", "x")

    assert (run.code, run.out) == (5, "")
    assert run.err == f"error: {detail}; retry in 42 s\n"


def test_a_full_queue_says_when_to_retry() -> None:
    answer = problem(503, "the image queue holds 100 waiting jobs, its cap", headers={"Retry-After": "5"})
    run = run_cli(lambda r: answer, "submit", "image", "x")
    assert (run.code, run.err) == (
        5,
        "error: the image queue holds 100 waiting jobs, its cap; retry in 5 s\n",
    )


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7),
        ({"Retry-After": "0"}, 0),
        ({"RateLimit": '"jobs";r=0;t=13'}, 13),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0),  # in the past
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_the_headers(headers: dict[str, str], seconds: int | None) -> None:
    assert retry_after(httpx.Headers(headers)) == seconds


def test_retry_after_as_a_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= (retry_after(httpx.Headers({"Retry-After": when})) or 0) <= 31


def test_the_client_keeps_retry_after_on_the_error() -> None:
    answer = problem(429, "slow down", code="rate_limited", headers={"Retry-After": "3"})
    client = ApiClient(API, transport=httpx.MockTransport(lambda r: answer))
    with client, pytest.raises(ApiError) as info:
        client.submit("image", {"prompt": "x"})
    assert (info.value.status, info.value.code, info.value.retry_after_s) == (429, "rate_limited", 3)
