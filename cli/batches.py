"""`llmb batch submit|status|cancel|download`: OpenAI-style batches (/v1/files, /v1/batches)."""

from __future__ import annotations

import argparse
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.client import ApiError
from cli.commands import Context
from cli.exits import ExitCode
from cli.terminal import escape_controls

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings", "/v1/images/generations")
POLL_S = 0.5

Batch = dict[str, Any]


def _send(ctx: Context, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; an error answer (OpenAI's shape on these routes) raises ApiError naming its field."""
    try:
        response = ctx.client.http.request(method, path, **kwargs)
    except httpx.RequestError as exc:
        raise ctx.client.failure(exc) from exc
    if response.is_error:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        message = str(error.get("message") or f"HTTP {response.status_code}")
        errors = [{"field": error["param"], "message": message}] if error.get("param") else []
        raise ApiError(
            message, status=response.status_code, code=str(error.get("code") or "error"), errors=errors
        )
    return response


def _batch(ctx: Context, batch_id: str) -> Batch:
    return cast(Batch, _send(ctx, "GET", f"v1/batches/{batch_id}").json())


def submit(args: argparse.Namespace, ctx: Context) -> int:
    """Upload FILE, create a batch over it and print its id; with --wait follow it to its end."""
    path = Path(args.file)
    try:
        data = path.open("rb")
    except OSError as exc:
        ctx.out.error(f"cannot read {args.file}: {exc.strerror or exc}")
        return ExitCode.NO_INPUT
    with data:
        made = _send(ctx, "POST", "v1/files", files={"file": (path.name, data)}, data={"purpose": "batch"})
    metadata = dict(pair.split("=", 1) for pair in args.metadata or [])
    body = {"input_file_id": made.json()["id"], "endpoint": args.endpoint, "completion_window": "24h"}
    batch = cast(
        Batch,
        _send(ctx, "POST", "v1/batches", json=body | ({"metadata": metadata} if metadata else {})).json(),
    )
    if args.wait:
        return _finish(ctx, _follow(ctx, batch))
    _show(ctx, batch)
    return ExitCode.OK


def status(args: argparse.Namespace, ctx: Context) -> int:
    """Print the batch's status and request counts; with --wait follow it to its end."""
    batch = _batch(ctx, args.id)
    if args.wait:
        return _finish(ctx, _follow(ctx, batch))
    _show(ctx, batch)
    return ExitCode.OK


def cancel(args: argparse.Namespace, ctx: Context) -> int:
    """Cancel the batch: queued lines are canceled, running ones finish."""
    _show(ctx, cast(Batch, _send(ctx, "POST", f"v1/batches/{args.id}/cancel").json()))
    return ExitCode.OK


def download(args: argparse.Namespace, ctx: Context) -> int:
    """Write the batch's output file (or its error file, with --errors) to -o FILE or stdout."""
    batch = _batch(ctx, args.id)
    file_id = batch["error_file_id" if args.errors else "output_file_id"]
    if file_id is None:
        ctx.out.error(
            f"batch {args.id} has no {'error' if args.errors else 'output'} file ({batch['status']})"
        )
        return ExitCode.NOT_FOUND
    content = _send(ctx, "GET", f"v1/files/{file_id}/content").content
    if args.output:
        Path(args.output).write_bytes(content)
    else:
        ctx.out.stdout.write(content.decode())  # JSON lines as they are, never escaped
        ctx.out.stdout.flush()
    return ExitCode.OK


def _summary(batch: Batch) -> str:
    counts = batch.get("request_counts") or {}
    return (
        f"{batch['id']} {batch['status']}: {counts.get('completed', 0)} completed, "
        f"{counts.get('failed', 0)} failed of {counts.get('total', 0)}"
    )


def _show(ctx: Context, batch: Batch) -> None:
    if ctx.out.json:
        ctx.out.document(batch)
    else:
        ctx.out.line(escape_controls(_summary(batch)))


def _snapshots(ctx: Context, batch: Batch) -> Iterator[Batch]:
    yield batch
    while batch["status"] not in ENDED:
        time.sleep(POLL_S)
        batch = _batch(ctx, batch["id"])
        yield batch


def _follow(ctx: Context, first: Batch) -> Batch:
    """The batch once it has ended, with a bar over its request counts on a terminal."""
    console: Console | None = ctx.out.bar_console()
    last = first
    if console is None:
        return deque(_snapshots(ctx, first), maxlen=1)[0]
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(first["status"], total=None)
        for last in _snapshots(ctx, first):
            counts = last.get("request_counts") or {}
            done = counts.get("completed", 0) + counts.get("failed", 0)
            status = escape_controls(last["status"])
            bar.update(task, description=status, total=counts.get("total") or None, completed=done)
    return last


def _finish(ctx: Context, batch: Batch) -> int:
    _show(ctx, batch)
    return ExitCode.OK if batch["status"] == "completed" else ExitCode.JOB_FAILED


def add_batch_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`batch submit|status|cancel|download`."""
    batch = sub.add_parser("batch", help="OpenAI-style batches of requests", description=__doc__)
    commands = batch.add_subparsers(dest="batch_command", required=True, metavar="COMMAND")
    made = commands.add_parser("submit", parents=after, help="upload a JSONL file and run it as a batch")
    made.add_argument("file", help="JSONL file: one {custom_id, method, url, body} a line")
    made.add_argument("--endpoint", required=True, choices=ENDPOINTS, help="the route every line calls")
    made.add_argument("--metadata", action="append", metavar="KEY=VALUE", help="a metadata pair (repeatable)")
    made.add_argument("--wait", action="store_true", help="follow it with a progress bar until it ends")
    made.set_defaults(handler=submit)
    shown = commands.add_parser("status", parents=after, help="show a batch and its request counts")
    shown.add_argument("id", help="batch id")
    shown.add_argument("--wait", action="store_true", help="follow it with a progress bar until it ends")
    shown.set_defaults(handler=status)
    stop = commands.add_parser("cancel", parents=after, help="cancel a batch (running lines finish)")
    stop.add_argument("id", help="batch id")
    stop.set_defaults(handler=cancel)
    fetch = commands.add_parser("download", parents=after, help="write a batch's output (or error) file")
    fetch.add_argument("id", help="batch id")
    fetch.add_argument("--errors", action="store_true", help="the error file instead of the output file")
    fetch.add_argument("-o", "--output", metavar="FILE", help="write it there (default: stdout)")
    fetch.set_defaults(handler=download)
