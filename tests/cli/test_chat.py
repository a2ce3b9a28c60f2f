"""`llmb chat`: what it sends, the reply printed token by token, usage, exit codes, Ctrl-C."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.client import Job
from cli.main import main
from tests.cli.fakes import (
    API,
    JOB_ID,
    FakeApi,
    Run,
    done_frame,
    dropped,
    job,
    problem,
    run_cli,
    sse,
    status_frame,
    token_frame,
)

USAGE = {"prompt_tokens": 24, "completion_tokens": 3, "total_tokens": 27}


def chat_job(status: str = "queued", text: str = "", **fields: Any) -> Job:
    result = {"text": text, "finish_reason": "length", "usage": USAGE} if status == "succeeded" else None
    chat_input = {"messages": [{"role": "user", "content": "hi"}]}
    return job(status, type="chat", input=chat_input, result=result, **fields)


class Screen(io.StringIO):
    """A stdout stand-in that logs each write and each flush, to show what a person would see when."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def write(self, text: str) -> int:
        self.log.append(text)
        return super().write(text)

    def flush(self) -> None:
        self.log.append("<flush>")


def tokens_then(final: Job, *pieces: str) -> httpx.Response:
    frames = [token_frame(piece, i + 1, i + 2) for i, piece in enumerate(pieces)]
    return sse(status_frame("running", 1), *frames, status_frame(final["status"], 99), done_frame(final))


def test_chat_sends_the_conversation_and_only_the_given_options() -> None:
    api = FakeApi(current=chat_job("succeeded", "ok"))

    run_cli(
        api,
        "chat",
        "hello",
        "--system",
        "be brief",
        "--max-tokens",
        "12",
        "--seed",
        "3",
        "--stop",
        "\n\n",
        "END",
    )
    run_cli(api, "chat", "again", "--temperature", "0", "--top-p", "0.5")

    assert api.sent() == [
        {
            "type": "chat",
            "input": {
                "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
                "max_tokens": 12,
                "seed": 3,
                "stop": ["\n\n", "END"],
            },
        },
        {
            "type": "chat",
            "input": {"messages": [{"role": "user", "content": "again"}], "temperature": 0.0, "top_p": 0.5},
        },
    ]


def test_tokens_are_printed_in_order_as_they_arrive_each_flushed() -> None:
    api = FakeApi(
        current=chat_job(), streams=[tokens_then(chat_job("succeeded", "Hel lo!"), "Hel", " lo", "!")]
    )
    screen, err = Screen(), io.StringIO()

    code = main(
        ["--url", API, "chat", "hi"], env={}, transport=httpx.MockTransport(api), stdout=screen, stderr=err
    )

    assert code == 0
    assert screen.log == ["Hel", "<flush>", " lo", "<flush>", "!", "<flush>", "\n", "<flush>"]
    assert err.getvalue() == "[finish: length, 24 prompt + 3 completion tokens]\n"


def test_a_resumed_stream_prints_each_token_once() -> None:
    final = chat_job("succeeded", "abc")
    api = FakeApi(
        current=chat_job("running"),
        streams=[
            dropped(status_frame("running", 1), token_frame("a", 1, 2), token_frame("b", 2, 3)),
            sse(token_frame("c", 3, 4), status_frame("succeeded", 5), done_frame(final)),
        ],
    )

    run = run_cli(api, "chat", "hi")

    assert (run.code, run.out) == (0, "abc\n")


def test_json_prints_only_the_finished_job() -> None:
    final = chat_job("succeeded", "Hello")
    api = FakeApi(current=chat_job(), streams=[tokens_then(final, "Hel", "lo")])

    run = run_cli(api, "--json", "chat", "hi")

    assert (run.code, json.loads(run.out), run.err) == (0, final, "")


@pytest.mark.parametrize("how", [["--no-stream"], []])
def test_the_reply_is_printed_whole_when_it_did_not_stream(how: list[str]) -> None:
    final = chat_job("succeeded", "all at once")
    # With --no-stream the tokens are not printed; an old server (404 on events) sends none.
    stream = tokens_then(final, "all", " at", " once") if how else problem(404, "not found")
    api = FakeApi(current=chat_job("running"), streams=[stream])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("wait"):
            api.current = final
        return api(request)

    run = run_cli(handler, "chat", "hi", *how)

    assert (run.code, run.out) == (0, "all at once\n")
    assert run.err == "[finish: length, 24 prompt + 3 completion tokens]\n"


@pytest.mark.parametrize(
    ("final", "message"),
    [
        (
            chat_job("failed", error={"code": "worker_error", "message": "CUDA out of memory"}),
            f"error: job {JOB_ID} failed: worker_error: CUDA out of memory\n",
        ),
        (chat_job("canceled"), f"error: job {JOB_ID} canceled\n"),
    ],
)
def test_a_reply_that_did_not_finish_exits_1(final: Job, message: str) -> None:
    api = FakeApi(current=chat_job("running"), streams=[tokens_then(final, "par", "tial")])

    run = run_cli(api, "chat", "hi")

    assert (run.code, run.out, run.err) == (1, "partial\n", message)


def test_invalid_options_are_the_servers_to_refuse() -> None:
    errors = [{"field": "input.max_tokens", "message": "must be at most 2048"}]

    def refuse(request: httpx.Request) -> httpx.Response:
        return problem(422, "the chat input is invalid", code="invalid_input", errors=errors)

    run = run_cli(refuse, "chat", "hi", "--max-tokens", "5000")

    assert run.code == 4
    assert run.err.splitlines() == [
        "error: the chat input is invalid",
        "  input.max_tokens: must be at most 2048",
    ]


def test_ctrl_c_cancels_the_job_and_exits_130() -> None:
    api = FakeApi(
        current=chat_job("running"),
        streams=[sse(status_frame("running", 1), token_frame("wor", 1, 2), fail=KeyboardInterrupt())],
    )

    run = run_cli(api, "chat", "hi")

    assert (run.code, run.out) == (130, "wor\n")
    assert run.err == f"error: interrupted; job {JOB_ID} canceled\n"
    assert api.paths()[-1] == f"POST /v1/jobs/{JOB_ID}/cancel"


def test_a_job_run_again_after_a_lost_worker_starts_its_reply_over() -> None:
    final = chat_job("succeeded", "xyz", attempts=2)
    stream = sse(
        status_frame("running", 1),
        token_frame("ab", 2, 2),
        status_frame("running", 3, attempts=2),
        token_frame("xyz", 3, 4),
        status_frame("succeeded", 5, attempts=2),
        done_frame(final),
    )
    api = FakeApi(current=chat_job(), streams=[stream])

    run = run_cli(api, "chat", "hi")

    assert (run.code, run.out) == (0, "ab\nxyz\n")
    assert run.err.splitlines()[0] == "[the worker was lost; attempt 2 writes the reply again]"


DEMO_NOTE = "tiny-chat: the built-in demo model with random weights, so ... gibberish"


def demo_chat(*args: str, env: dict[str, str], url: str = API) -> Run:
    """`llmb chat hi` against a server whose chat model is the demo one."""
    final = chat_job("succeeded", "\ufffd\ufffd")
    api = FakeApi(current=chat_job(), streams=[tokens_then(final, "\ufffd", "\ufffd")])
    listed = {"data": [{"id": "tiny-chat", "job_type": "chat", "demo": True, "note": DEMO_NOTE}]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json=listed)
        return api(request)

    return run_cli(handler, "chat", "hi", *args, env=env, url=url)


def test_a_reply_from_the_demo_model_says_so_after_the_usage() -> None:
    run = demo_chat(env={})  # no home folder: nothing remembered

    assert run.code == 0
    assert run.err.splitlines() == ["[finish: length, 24 prompt + 3 completion tokens]", f"[{DEMO_NOTE}]"]


def test_the_demo_note_comes_on_the_first_chat_with_each_api_only(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path), "HOME": str(tmp_path / "home")}
    usage = "[finish: length, 24 prompt + 3 completion tokens]"

    first, again = demo_chat(env=env), demo_chat(env=env)
    other = demo_chat(env=env, url="http://127.0.0.1:8200")

    assert (first.code, again.code, other.code) == (0, 0, 0)
    assert first.err.splitlines() == [usage, f"[{DEMO_NOTE}]"]
    assert again.err.splitlines() == [usage]  # said once for this API
    assert other.err.splitlines() == [usage, f"[{DEMO_NOTE}]"]  # another API is another first chat
    assert (tmp_path / "llmb" / "demo-noted").read_text().splitlines() == [
        f"{API}/",
        "http://127.0.0.1:8200/",
    ]
    assert not (tmp_path / "home").exists()  # XDG_STATE_HOME wins over ~/.local/state


def test_without_xdg_state_home_the_note_is_remembered_under_home(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}

    demo_chat(env=env)

    assert (tmp_path / ".local" / "state" / "llmb" / "demo-noted").read_text() == f"{API}/\n"
    assert demo_chat(env=env).err.count(DEMO_NOTE) == 0


def test_a_state_folder_that_cannot_be_written_never_fails_a_chat(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")  # mkdir under it fails even as root
    env = {"XDG_STATE_HOME": str(blocked)}

    runs = [demo_chat(env=env), demo_chat(env=env)]

    assert [run.code for run in runs] == [0, 0]
    assert [run.out for run in runs] == ["\ufffd\ufffd\n"] * 2
    assert [run.err.count(DEMO_NOTE) for run in runs] == [1, 1]  # not remembered, so said again


def test_json_output_neither_shows_nor_spends_the_demo_note(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path)}

    as_json = demo_chat("--json", env=env)

    assert as_json.code == 0
    assert DEMO_NOTE not in as_json.err + as_json.out
    assert demo_chat(env=env).err.count(DEMO_NOTE) == 1
