"""`llmb chat`: one message to the chat model, the reply printed on stdout as its tokens arrive.

The reply streams from the job's `token` events (each piece flushed at once), then a newline; the
finish reason and token usage go to stderr, e.g. `[finish: length, 24 prompt + 12 completion tokens]`.
With --no-stream, or where the server has no event stream, the reply is printed once complete.
With --json only the finished job is printed. Ctrl-C cancels the job and exits 130.
The first chat against an API URL whose chat model is a random-weight demo one ends with the
server's note on it (`/v1/models`); cli/state.py remembers that it was said.
On a terminal, control characters in the reply are shown escaped (cli/terminal.py) unless --raw.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.client import TERMINAL, ApiError, Job
from cli.commands import Context
from cli.exits import ExitCode
from cli.options import chat_input
from cli.output import Output, job_failure
from cli.state import demo_noted, remember_demo_noted


@dataclass
class Reply:
    """The reply as printed so far; a job run again after a lost worker starts it over."""

    out: Output
    text: str = ""
    attempts: int = 0

    def write(self, delta: str) -> None:
        """Print a piece of the reply at once."""
        self.text += delta  # first: a Ctrl-C right after the write must still end the line
        self.out.write(delta)  # escaped on a terminal, one character at a time: pieces are safe

    def see(self, job: Job) -> None:
        """Start the reply over when the job began another attempt after printing some of it."""
        attempts = job.get("attempts") or 0
        if attempts > self.attempts and self.attempts and self.text:
            self.end_line()
            self.out.note(f"[the worker was lost; attempt {attempts} writes the reply again]")
            self.text = ""
        self.attempts = max(self.attempts, attempts)

    def end_line(self) -> None:
        """End the printed line, if anything was printed."""
        if self.text:
            self.out.write("\n")


def chat(args: argparse.Namespace, ctx: Context) -> int:
    """Submit a chat job, print its reply as it is written, and report how it ended."""
    job = ctx.client.submit("chat", chat_input(args))
    ctx.cancel_on_interrupt = job["id"]
    reply = Reply(ctx.out)
    try:
        last = stream_reply(ctx, job, None if args.no_stream or ctx.out.json else reply)
    except (KeyboardInterrupt, ApiError):
        reply.end_line()  # the message that follows on stderr starts a line of its own
        raise
    ctx.cancel_on_interrupt = None
    code = report(ctx, last, reply)
    if code == ExitCode.OK and not ctx.out.json:
        note_demo_once(ctx, args.state_dir)
    return code


def stream_reply(ctx: Context, job: Job, reply: Reply | None) -> Job:
    """Follow the job to its end, handing each token to `reply`; the finished job."""
    if job["status"] in TERMINAL:
        return job
    last = job
    on_token = reply.write if reply is not None else None
    for last in ctx.source(ctx.client, job["id"], timeout=None, on_token=on_token):
        if reply is not None:
            reply.see(last)
    return last


def report(ctx: Context, job: Job, reply: Reply) -> int:
    """Print the rest of the reply (all of it when nothing streamed), its usage, and the exit code."""
    if ctx.out.json:
        ctx.out.document(job)
    if job["status"] != "succeeded":
        reply.end_line()
        ctx.out.error(job_failure(job))
        return ExitCode.JOB_FAILED
    if ctx.out.json:
        return ExitCode.OK
    result: dict[str, Any] = job.get("result") or {}
    if not reply.text:
        reply.write(str(result.get("text", "")))
    ctx.out.write("\n")
    ctx.out.note(usage_line(result))
    return ExitCode.OK


def note_demo_once(ctx: Context, state: Path | None) -> None:
    """After the first chat against this API's demo chat model, say what it is; later chats say nothing."""
    url = str(ctx.client.base_url)
    if demo_noted(state, url):
        return
    note = demo_note(ctx)
    if note:
        ctx.out.note(f"[{note}]")
        remember_demo_noted(state, url)


def demo_note(ctx: Context) -> str | None:
    """What the server says of its chat model when it is a random-weight demo one (None otherwise)."""
    try:
        models = ctx.client.models()
    except (ApiError, ValueError, AttributeError):  # an older server, or one without /v1/models
        return None
    demo = [m for m in models if m.get("job_type") == "chat" and m.get("demo")]
    return str(demo[0].get("note") or "") or None if demo else None


def usage_line(result: dict[str, Any]) -> str:
    """`[finish: stop, 24 prompt + 12 completion tokens]` for a chat result."""
    usage = result.get("usage") or {}
    prompt, completion = usage.get("prompt_tokens", "?"), usage.get("completion_tokens", "?")
    return f"[finish: {result.get('finish_reason', '?')}, {prompt} prompt + {completion} completion tokens]"
