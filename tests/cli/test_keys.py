"""`llmb keys create|list|revoke` against a fake API: what they send, print and exit with."""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx
import pytest

from cli.main import main
from cli.options import duration
from tests.cli.fakes import Recorder, problem, run_cli, streams

KEY_ID = "a1b2c3d4e5f6"
SECRET = "S" * 43
KEY = f"llmb_{KEY_ID}_{SECRET}"
ADMIN = {"LLMB_API_KEY": "admin-key"}


def api_key(**fields: Any) -> dict[str, Any]:
    """A key as the API shows it (without its secret unless `key` is given)."""
    body: dict[str, Any] = {
        "id": KEY_ID,
        "key": None,
        "name": "ci",
        "tenant": "team-a",
        "scopes": ["jobs:read", "jobs:write"],
        "state": "active",
        "created_at": "2025-01-02T03:04:05.678Z",
        "expires_at": None,
        "revoked_at": None,
        "last_used_at": None,
        "jobs_per_minute": None,
        "max_active_jobs": None,
    }
    body.update(fields)
    return body


def test_create_sends_only_the_given_options_and_prints_the_key_alone() -> None:
    recorder = Recorder(lambda r: httpx.Response(201, json=api_key(key=KEY)))

    run = run_cli(recorder, "keys", "create", "--name", "ci", "--tenant", "team-a", env=ADMIN)

    assert (run.code, run.out) == (0, f"{KEY}\n")
    note = f"key {KEY_ID} for tenant team-a (jobs:read, jobs:write); the secret is shown only now"
    assert run.err == note + ": keep it safe\n"
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("POST", "/v1/keys")
    assert request.headers["authorization"] == "Bearer admin-key"
    assert json.loads(request.content) == {"name": "ci", "tenant": "team-a"}


def test_create_passes_scopes_expiry_and_limits() -> None:
    made = api_key(key=KEY, scopes=["jobs:read"], expires_at="2025-02-01T03:04:05.678Z")
    recorder = Recorder(lambda r: httpx.Response(201, json=made))

    run = run_cli(
        recorder,
        *("keys", "create", "--name", "ci", "--scope", "jobs:read", "--scope", "queues:read"),
        *("--expires", "30d", "--jobs-per-minute", "10", "--max-active-jobs", "2"),
    )

    assert json.loads(recorder.requests[0].content) == {
        "name": "ci",
        "scopes": ["jobs:read", "queues:read"],
        "expires_in_s": 30 * 86400,
        "jobs_per_minute": 10,
        "max_active_jobs": 2,
    }
    assert "(jobs:read), expires 2025-02-01 03:04:05 UTC;" in run.err


def test_create_with_json_prints_the_whole_answer() -> None:
    made = api_key(key=KEY)
    run = run_cli(lambda r: httpx.Response(201, json=made), "--json", "keys", "create", "--name", "ci")
    assert (run.code, json.loads(run.out), run.err) == (0, made, "")


def test_an_answer_without_a_key_is_an_error_not_an_empty_line() -> None:
    run = run_cli(lambda r: httpx.Response(201, json=api_key()), "keys", "create", "--name", "ci")
    assert (run.code, run.out) == (5, "")
    assert run.err == "error: the server's answer holds no key\n"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("12h", 43200),
        ("30d", 2592000),
        ("2w", 1209600),
        (" 1H ", 3600),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0d", "-5m", "1.5h", "3y", "h", "1h30m", "١٢"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


@pytest.mark.parametrize(
    "args",
    [
        ["keys"],
        ["keys", "create"],
        ["keys", "create", "--name", "ci", "--expires", "soon"],
        ["keys", "create", "--name", "ci", "--jobs-per-minute", "0"],
        ["keys", "revoke"],
    ],
)
def test_bad_key_usage_exits_2_without_calling_the_api(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json={}))
    out, err = streams()

    code = main(args, env={}, transport=httpx.MockTransport(recorder), stdout=out, stderr=err)

    assert (code, recorder.requests) == (2, [])
    assert "usage: llmb keys" in capsys.readouterr().err


def test_list_shows_a_table_without_secrets() -> None:
    used = api_key(
        id="zzzzzzzzzzzz",
        name="batch jobs",
        tenant="team-b",
        scopes=["admin"],
        state="revoked",
        last_used_at="2025-01-03T00:00:00.000Z",
        expires_at="2026-01-01T00:00:00.000Z",
    )
    recorder = Recorder(lambda r: httpx.Response(200, json={"keys": [api_key(), used]}))

    run = run_cli(recorder, "keys", "list", "--tenant", "team-a")

    lines = run.out.splitlines()
    assert lines[0].split() == [
        "ID",
        "NAME",
        "TENANT",
        "SCOPES",
        "STATE",
        "CREATED",
        "LAST",
        "USED",
        "EXPIRES",
    ]
    assert lines[1].split() == [
        KEY_ID,
        "ci",
        "team-a",
        "jobs:read,jobs:write",
        "active",
        "2025-01-02",
        "03:04:05",
        "-",
        "-",
    ]
    assert lines[2].split()[:6] == ["zzzzzzzzzzzz", "batch", "jobs", "team-b", "admin", "revoked"]
    assert lines[2].split()[-4:] == ["2025-01-03", "00:00:00", "2026-01-01", "00:00:00"]
    assert str(recorder.requests[0].url) == "http://api.test/v1/keys?tenant=team-a"


def test_list_with_json_and_an_empty_list() -> None:
    document = {"keys": [api_key()]}
    as_json = run_cli(lambda r: httpx.Response(200, json=document), "keys", "list", "--json")
    empty = run_cli(lambda r: httpx.Response(200, json={"keys": []}), "keys", "list")

    assert json.loads(as_json.out) == document
    assert (empty.code, empty.out) == (0, "no keys\n")


def test_list_cells_are_text_not_markup() -> None:
    marked = api_key(name="[bold]x[/bold] [/nope]")
    run = run_cli(lambda r: httpx.Response(200, json={"keys": [marked]}), "keys", "list")
    assert (run.code, run.out.splitlines()[1].split()[1:3]) == (0, ["[bold]x[/bold]", "[/nope]"])


@pytest.mark.parametrize("given", [KEY_ID, KEY])
def test_revoke_prints_the_id_and_sends_no_secret(given: str) -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=api_key(state="revoked")))

    run = run_cli(recorder, "keys", "revoke", given)

    assert (run.code, run.out) == (0, f"{KEY_ID} revoked\n")
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("DELETE", f"/v1/keys/{KEY_ID}")
    assert SECRET not in str(request.url)


def test_revoking_an_unknown_key_exits_3() -> None:
    run = run_cli(lambda r: problem(404, "no key nope", code="not_found"), "keys", "revoke", "nope")
    assert (run.code, run.err) == (3, "error: no key nope\n")


def test_keys_need_the_admin_scope() -> None:
    refuse = problem(403, "this key lacks the scope admin", code="forbidden")
    run = run_cli(lambda r: refuse, "keys", "list", env={"LLMB_API_KEY": KEY})
    assert (run.code, run.err) == (
        8,
        f"error: this key lacks the scope admin (sent llmb_{KEY_ID}_… from LLMB_API_KEY)\n",
    )


def test_create_sends_a_budget_and_show_prints_the_budget_and_spend() -> None:
    budget = {"device_s": 3600.0, "tokens": None, "period": "day"}
    spend = {"period": "day", "device_s": 12.5, "tokens": 0, "resets_at": "2025-01-03T00:00:00.000Z"}
    recorder = Recorder(lambda r: httpx.Response(201, json=api_key(key=KEY, budget=budget, spend=spend)))

    made = run_cli(
        recorder,
        "keys",
        "create",
        "--name",
        "ci",
        "--budget-device-s",
        "3600",
        "--budget-period",
        "day",
        env=ADMIN,
    )
    shown = run_cli(recorder, "keys", "show", KEY_ID, env=ADMIN)

    assert made.code == 0
    assert json.loads(recorder.requests[0].content) == {
        "name": "ci",
        "budget": {"device_s": 3600.0, "period": "day"},
    }
    assert (recorder.requests[1].method, recorder.requests[1].url.path) == ("GET", f"/v1/keys/{KEY_ID}")
    assert shown.code == 0
    assert shown.out.splitlines()[1:] == [
        "budget: 3600 device s per day",
        "spent this day: 12.500 device s, 0 tokens (resets 2025-01-03 00:00:00 UTC)",
    ]


def test_usage_asks_for_the_range_and_grouping_and_prints_a_row_per_group() -> None:
    report = {
        "from": "2025-01-01T00:00:00.000Z",
        "to": "2025-01-02T00:00:00.000Z",
        "group_by": "key",
        "groups": [
            {"tenant": "a", "key_id": KEY_ID, "type": None, "jobs": 3, "device_s": 1.25, "prompt_tokens": 7,
             "completion_tokens": 9, "images": 0, "pixel_steps": 0},
        ],
    }  # fmt: skip
    recorder = Recorder(lambda r: httpx.Response(200, json=report))

    run = run_cli(recorder, "usage", "--by", "key", "--from", "2025-01-01", env=ADMIN)

    assert run.code == 0
    (request,) = recorder.requests
    assert (request.url.path, dict(request.url.params)) == (
        "/v1/usage",
        {"group_by": "key", "from": "2025-01-01"},
    )
    assert run.out.splitlines()[1].split() == ["a", KEY_ID, "3", "1.250", "7", "9", "0", "0"]
