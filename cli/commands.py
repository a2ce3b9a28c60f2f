"""One function per job subcommand (submit, status, wait, cancel, list, result): call the API, print
the outcome, return the exit code; `chat` and `embed` live in their own modules."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cli.client import TERMINAL, ApiClient, ApiError, Job, ResultBody
from cli.exits import ExitCode
from cli.options import INPUTS, job_options
from cli.output import Output, job_failure, job_summary, jobs_table
from cli.progress import follow
from cli.watch import SnapshotSource, event_stream


@dataclass
class Context:
    """What every command needs: the API, the printer, and where job snapshots come from."""

    client: ApiClient
    out: Output
    source: SnapshotSource = event_stream
    cancel_on_interrupt: str | None = None  # the id of a job that Ctrl-C should cancel


def submit(args: argparse.Namespace, ctx: Context) -> int:
    """Submit a job of type `args.kind`; with --wait or -o follow it to the end and save its result."""
    if args.webhook_events and not args.webhook:
        ctx.out.error("--webhook-event needs --webhook URL")
        return ExitCode.USAGE
    made = ctx.client.create(
        args.kind, INPUTS[args.kind](args), options=job_options(args), idempotency_key=args.idempotency_key
    )
    job = made.job
    if made.replayed:
        ctx.out.note(f"job {job['id']} was made earlier with this idempotency key; this is it now")
    if args.wait or args.output:
        return finish(ctx, job["id"], first=job, output=args.output)
    if ctx.out.json:
        ctx.out.document(job)
    else:
        ctx.out.line(job["id"])
    return ExitCode.OK


def status(args: argparse.Namespace, ctx: Context) -> int:
    """Show a job."""
    job = ctx.client.job(args.id)
    if ctx.out.json:
        ctx.out.document(job)
    else:
        idle = job["status"] == "queued" and ctx.client.queue_workers(job["type"]) == 0
        ctx.out.line(job_summary(job, no_worker=idle))
    return ExitCode.OK


def wait(args: argparse.Namespace, ctx: Context) -> int:
    """Follow a job until it ends (or --timeout passes)."""
    return finish(ctx, args.id, timeout=args.wait_timeout, output=args.output)


def cancel(args: argparse.Namespace, ctx: Context) -> int:
    """Cancel a queued or running job."""
    job = ctx.client.cancel(args.id)
    if ctx.out.json:
        ctx.out.document(job)
    else:
        ctx.out.line(f"{job['id']} {job['status']}")
    return ExitCode.OK


def list_jobs(args: argparse.Namespace, ctx: Context) -> int:
    """List the newest jobs."""
    page = ctx.client.jobs(limit=args.limit)
    if ctx.out.json:
        ctx.out.document(page)
    elif page["jobs"]:
        ctx.out.table(jobs_table(page, ctx.out.cell))
    else:
        ctx.out.line("no jobs")
    return ExitCode.OK


def result(args: argparse.Namespace, ctx: Context) -> int:
    """Download a finished job's result to a file, or print it when it is JSON."""
    body = ctx.client.result(args.id, index=args.index)
    if args.output is None:
        if not body.is_json:
            ctx.out.error(f"the result is {body.content_type}; save it with -o FILE (or -o - for stdout)")
            return ExitCode.USAGE
        ctx.out.write(body.data.decode() + "\n")
        return ExitCode.OK
    if args.output == "-":
        buffer = getattr(ctx.out.stdout, "buffer", None)
        if buffer is None:
            ctx.out.error("stdout takes no bytes here; save the result with -o FILE")
            return ExitCode.USAGE
        buffer.write(body.data)
        return ExitCode.OK
    path = Path(args.output)
    path.write_bytes(body.data)
    report_saved(ctx.out, [(path, body)])
    return ExitCode.OK


def finish(
    ctx: Context,
    job_id: str,
    *,
    first: Job | None = None,
    timeout: float | None = None,
    output: str | None = None,
) -> int:
    """Follow a job to its end with a live bar, then report how it ended."""
    last = track(ctx, job_id, first=first, timeout=timeout)
    if last is None:
        ctx.out.error(f"no news of job {job_id}")
        return ExitCode.UNAVAILABLE
    return report_end(ctx, last, timeout=timeout, output=output)


def track(ctx: Context, job_id: str, *, first: Job | None = None, timeout: float | None = None) -> Job | None:
    """Follow a job until it ends or `timeout` passes, with a bar when someone watches; the last snapshot."""
    snapshots: Iterator[Job] = iter(())
    if first is None or first["status"] not in TERMINAL:
        snapshots = ctx.source(ctx.client, job_id, timeout=timeout)
    if first is not None:
        snapshots = itertools.chain([first], snapshots)
    return follow(snapshots, console=ctx.out.bar_console())


def interrupted(ctx: Context) -> str:
    """What Ctrl-C did: cancel the job the command owns (`chat`, `embed`), or leave the job running."""
    if ctx.cancel_on_interrupt is None:
        return "interrupted; a submitted job goes on (see `llmb list`)"
    job_id = ctx.cancel_on_interrupt
    try:
        job = ctx.client.cancel(job_id)
    except ApiError as exc:
        return f"interrupted; job {job_id} was not canceled: {exc}"
    except KeyboardInterrupt:  # a second Ctrl-C: stop trying
        return f"interrupted; job {job_id} may go on"
    return f"interrupted; job {job_id} {job['status']}"


def report_end(ctx: Context, last: Job, *, timeout: float | None, output: str | None) -> int:
    """Say how the followed job ended (or that it has not), saving its result when it succeeded."""
    job_id = last["id"]
    if ctx.out.json:
        ctx.out.document(last)
    if last["status"] not in TERMINAL:
        after = "" if timeout is None else f" after {timeout:g} s"
        ctx.out.error(f"job {job_id} is still {last['status']}{after}; wait again with: llmb wait {job_id}")
        return ExitCode.STILL_RUNNING
    if last["status"] != "succeeded":
        ctx.out.error(job_failure(last))
        return ExitCode.JOB_FAILED
    ctx.out.line(f"{job_id} succeeded")
    if output:
        report_saved(ctx.out, save_result(ctx.client, last, Path(output)))
    return ExitCode.OK


def save_result(client: ApiClient, job: Job, output: Path) -> list[tuple[Path, ResultBody]]:
    """Write every result file (`out.png`, `out-1.png`, ...) or the JSON result to `output`."""
    files = (job.get("result") or {}).get("files") or []
    saved = []
    for index, path in enumerate(numbered_paths(output, max(1, len(files)))):
        body = client.result(job["id"], index=index if files else None)
        path.write_bytes(body.data)
        saved.append((path, body))
    return saved


def numbered_paths(path: Path, count: int) -> list[Path]:
    """`path` for the first file, then `stem-1.suffix`, `stem-2.suffix`, ... for the others."""
    return [path] + [path.with_name(f"{path.stem}-{i}{path.suffix}") for i in range(1, count)]


def report_saved(out: Output, saved: list[tuple[Path, ResultBody]]) -> None:
    """Say which files were written (on stderr in JSON mode, keeping stdout one document)."""
    for path, body in saved:
        message = f"wrote {path} ({len(body.data)} bytes, {body.content_type})"
        if out.json:
            out.note(message)
        else:
            out.line(message)
