"""Text from the server or the model cannot drive the terminal: controls are shown escaped on a TTY.

`--raw` keeps the bytes, and so do pipes and files; `--json` stays JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from rich.console import Console

from cli.client import Job
from cli.main import main
from cli.progress import follow
from cli.terminal import escape_controls
from tests.cli.fakes import JOB_ID, FakeApi, done_frame, job, problem, run_cli, sse, status_frame, token_frame
from tests.cli.ttys import Tty, run_tty

TITLE = "\x1b]0;pwned\x07"  # OSC: retitle the window
CLEAR = "\x1b[2J"  # CSI: clear the screen
C1_CSI = "\x9b31m"  # the one-character CSI: turn the text red
REPLY = f"Hi {TITLE}there{CLEAR}\r{C1_CSI}!"
SHOWN = "Hi \\x1b]0;pwned\\x07there\\x1b[2J\\x0d\\x9b31m!"


@pytest.mark.parametrize("code", range(0xA1))
def test_every_control_but_tab_and_newline_is_escaped(code: int) -> None:
    char = chr(code)
    control = code < 0x20 or 0x7F <= code <= 0x9F
    expected = f"\\x{code:02x}" if control and char not in "\t\n" else char
    assert escape_controls(char) == expected


def test_sequences_become_visible_text_and_other_text_is_kept() -> None:
    assert escape_controls(REPLY) == SHOWN
    assert escape_controls("naïve 日本語 🦊\ttab\nline") == "naïve 日本語 🦊\ttab\nline"


def chat_job(status: str = "queued", text: str = "", **fields: Any) -> Job:
    result = {"text": text, "finish_reason": "stop", "usage": {}} if status == "succeeded" else None
    return job(status, type="chat", result=result, **fields)


def streamed(*pieces: str) -> FakeApi:
    final = chat_job("succeeded", "".join(pieces))
    frames = [token_frame(piece, i, i + 2) for i, piece in enumerate(pieces)]
    stream = sse(status_frame("running", 1), *frames, done_frame(final))
    return FakeApi(current=chat_job(), streams=[stream])


PIECES = ("Hi ", TITLE[:3], TITLE[3:], "there", CLEAR, "\r", C1_CSI, "!")  # a sequence spans pieces


def test_a_streamed_reply_is_escaped_piece_by_piece_on_a_terminal() -> None:
    run = run_tty(streamed(*PIECES), "chat", "hi")

    assert (run.code, run.out) == (0, SHOWN + "\n")
    assert run.err == "[finish: stop, ? prompt + ? completion tokens]\n"


def test_raw_and_pipes_get_the_reply_as_it_is() -> None:
    raw = run_tty(streamed(*PIECES), "chat", "hi", "--raw")
    piped = run_cli(streamed(*PIECES), "chat", "hi")

    assert raw.code == piped.code == 0
    assert raw.out == piped.out == REPLY + "\n"


def test_a_reply_printed_whole_is_escaped_too() -> None:
    api = FakeApi(current=chat_job("succeeded", REPLY))
    run = run_tty(api, "chat", "hi", "--no-stream")
    assert (run.code, run.out) == (0, SHOWN + "\n")


def test_json_stays_json_on_a_terminal() -> None:
    api = FakeApi(current=chat_job("succeeded", REPLY))
    run = run_tty(api, "--json", "chat", "hi")
    assert "\x1b" not in run.out
    assert json.loads(run.out)["result"]["text"] == REPLY


FAILED = job("failed", error={"code": "worker_error", "message": f"boom{TITLE}{CLEAR}"}, attempts=1)


def test_status_shows_an_error_message_escaped() -> None:
    on_tty = run_tty(lambda r: httpx.Response(200, json=FAILED), "status", FAILED["id"])
    piped = run_cli(lambda r: httpx.Response(200, json=FAILED), "status", FAILED["id"])

    assert "error:     worker_error: boom\\x1b]0;pwned\\x07\\x1b[2J" in on_tty.out
    assert "\x1b" not in on_tty.out
    assert f"boom{TITLE}{CLEAR}" in piped.out


def test_wait_reports_a_failure_escaped_on_stderr() -> None:
    run = run_tty(lambda r: httpx.Response(200, json=FAILED), "wait", FAILED["id"])

    assert run.code == 1
    assert "worker_error: boom\\x1b]0;pwned\\x07\\x1b[2J" in run.err
    assert TITLE not in run.err
    assert CLEAR not in run.err


def test_the_progress_bar_shows_the_servers_words_escaped() -> None:
    screen = Tty()

    follow([job(f"runn{TITLE}ing", id=f"[b]{CLEAR}")], console=Console(file=screen, width=100))

    shown = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())  # without rich's own colours
    assert "[b]\\x1b[2J runn\\x1b]0;pwned\\x07ing" in shown
    assert TITLE not in shown


@pytest.mark.parametrize(("how", "kept"), [([], False), (["--raw"], True)])
def test_server_error_details_are_escaped_on_a_terminal_stderr(how: list[str], kept: bool) -> None:
    answer = problem(422, f"bad{CLEAR}input", errors=[{"field": "x", "message": f"no{TITLE}"}])

    run = run_tty(lambda r: answer, *how, "status", "x")

    assert run.code == 4
    expected = f"error: bad{CLEAR}input\n  x: no{TITLE}\n"
    assert run.err == (expected if kept else escape_controls(expected))


@pytest.mark.parametrize(("out_tty", "err_tty"), [(False, True), (True, False)])
def test_each_stream_is_escaped_only_when_it_is_a_terminal(out_tty: bool, err_tty: bool) -> None:
    failed = chat_job("failed", error={"code": "x", "message": CLEAR})
    stream = sse(token_frame(REPLY, 0, 2), done_frame(failed))
    api = FakeApi(current=chat_job(), streams=[stream])

    run = run_tty(api, "chat", "hi", out_tty=out_tty, err_tty=err_tty)

    message = f"error: job {JOB_ID} failed: x: {CLEAR}\n"
    assert run.code == 1
    assert run.out == (SHOWN if out_tty else REPLY) + "\n"
    assert run.err == (escape_controls(message) if err_tty else message)


def test_table_cells_are_escaped_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich sizes a terminal from it; full cells, no ellipsis
    page = {"jobs": [job("queued", type=f"i{CLEAR}")], "next": None}
    run = run_tty(lambda r: httpx.Response(200, json=page), "list")
    assert "i\\x1b[2J" in run.out  # rich's own styles (bold headers) are still drawn
    assert CLEAR not in run.out


def test_help_describes_raw_and_the_keys_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"], env={}) == 0
    shown = capsys.readouterr().out
    assert "--raw" in shown
    assert "shown escaped, as \\x1b," in shown
    assert "llmb keys revoke ID" in shown
    assert escape_controls(shown) == shown  # the help itself holds no control character
