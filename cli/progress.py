"""A live progress bar driven by job snapshots; the server's words in it are shown, never obeyed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from cli.client import Job
from cli.terminal import escape_controls


def describe(job: Job) -> str:
    """A few words on where the job is, e.g. "queued — position 3"."""
    status = job["status"]
    position = job.get("queue_position")
    if status == "queued" and position:
        return f"queued — position {position}"
    if status == "running" and job.get("attempts", 0) > 1:
        return f"running — attempt {job['attempts']}"
    return status


def follow(snapshots: Iterable[Job], *, console: Console | None) -> Job | None:
    """Consume the snapshots, drawing a bar on `console` when one is given; return the last one."""
    last: Job | None = None
    if console is None:
        for job in snapshots:
            last = job
        return last
    columns = (
        SpinnerColumn(),
        TextColumn("{task.fields[job]}", style="dim", markup=False),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("waiting", total=None, job="")
        for last in snapshots:
            bar.update(task, job=escape_controls(last["id"][:8]), **bar_fields(last))
    return last


def bar_fields(job: Job) -> dict[str, Any]:
    """The bar's description, and its total and completed steps once the job reports them."""
    fields: dict[str, Any] = {"description": escape_controls(describe(job))}
    progress = job.get("progress")
    if progress and progress.get("total"):
        done = progress["total"] if job["status"] == "succeeded" else progress["step"]
        fields.update(total=progress["total"], completed=done)
    return fields
