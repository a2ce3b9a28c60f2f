"""Everything the CLI prints: JSON or human text on stdout, errors on stderr, tables and bars."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.client import Job, JobPage
from cli.problems import adding
from cli.progress import describe
from cli.terminal import Shower, is_terminal, shower_for


@dataclass
class Output:
    """Where and how to print; with `json` stdout carries only JSON documents.

    Text from the server or the model goes through `show_out` / `show_err`, which escape control
    characters on a terminal (unless `raw`), so that it cannot drive the terminal.
    """

    stdout: TextIO
    stderr: TextIO
    json: bool = False
    raw: bool = False
    show_out: Shower = field(init=False)
    show_err: Shower = field(init=False)

    def __post_init__(self) -> None:
        self.show_out = shower_for(self.stdout, raw=self.raw)
        self.show_err = shower_for(self.stderr, raw=self.raw)

    @property
    def interactive(self) -> bool:
        """True when a person watches stdout, so live bars and colors make sense."""
        return not self.json and is_terminal(self.stdout)

    def document(self, data: Any) -> None:
        """Print one JSON document on stdout."""
        self.stdout.write(json.dumps(data, indent=2) + "\n")

    def line(self, text: str) -> None:
        """Print human text on stdout (nothing in JSON mode)."""
        if not self.json:
            self.stdout.write(self.show_out(text) + "\n")

    def write(self, text: str) -> None:
        """Print a piece of text on stdout at once, with no newline added (also in JSON mode)."""
        self.stdout.write(self.show_out(text))
        self.stdout.flush()

    def note(self, text: str) -> None:
        """Print a line on stderr."""
        self.stderr.write(self.show_err(text) + "\n")

    def error(self, message: str, errors: Iterable[dict[str, Any]] = ()) -> None:
        """Print `error: message` and an indented line per field error that adds to it, on stderr."""
        self.note(f"error: {message}")
        for item in adding(message, errors):
            self.note(f"  {item.get('field', '?')}: {item.get('message', '')}")

    def cell(self, value: str) -> Text:
        """A table cell showing `value` as text (never as rich markup) on stdout."""
        return Text(self.show_out(value))

    def bar_console(self) -> Console | None:
        """The console to draw progress bars on (stderr), or None when nobody watches."""
        return Console(file=self.stderr) if self.interactive else None

    def table(self, table: Table) -> None:
        """Print a rich table on stdout, wide enough for full ids when stdout is a file or pipe."""
        width = None if is_terminal(self.stdout) else 200
        Console(file=self.stdout, width=width).print(table)


def short_time(value: str | None) -> str:
    """An API timestamp as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`."""
    if not value:
        return "-"
    return value.replace("T", " ")[:19]


def job_failure(job: Job) -> str:
    """Why a job did not succeed, e.g. `job 1f... failed: runtime_error: ...`."""
    error = job.get("error")
    reason = f": {error['code']}: {error['message']}" if error else ""
    return f"job {job['id']} {job['status']}{reason}"


def job_summary(job: Job, *, no_worker: bool = False) -> str:
    """A few aligned lines describing a job for people; `no_worker`: no live worker serves its queue."""
    rows = [
        ("id", job["id"]),
        ("type", job["type"]),
        ("status", describe(job)),
        ("attempts", str(job["attempts"])),
    ]
    progress = job.get("progress")
    if progress:
        rows.append(("progress", f"{progress['step']}/{progress['total']}"))
    rows += contract_rows(job, no_worker=no_worker)
    rows += [
        ("created", short_time(job["created_at"])),
        ("started", short_time(job["started_at"])),
        ("finished", short_time(job["finished_at"])),
    ]
    error = job.get("error")
    if error:
        rows.append(("error", f"{error['code']}: {error['message']}"))
    files = (job.get("result") or {}).get("files") or []
    rows += [(f"file {i}", str(f.get("url"))) for i, f in enumerate(files)]
    return "\n".join(f"{name + ':':<10} {value}" for name, value in rows)


def contract_rows(job: Job, *, no_worker: bool = False) -> list[tuple[str, str]]:
    """A queued job's estimated start, and the deadline and webhook the job was given."""
    rows = []
    if job["status"] == "queued":
        estimate = job.get("estimated_start_s")
        if no_worker:
            rows.append(("starts in", f"unknown: no worker serves the {job['type']} queue"))
        else:
            rows.append(
                (
                    "starts in",
                    "unknown (no recent history)" if estimate is None else f"about {estimate:.0f} s",
                )
            )
    if job.get("deadline_at"):
        rows.append(("deadline", f"{short_time(job.get('deadline_at'))} UTC"))
    webhook = job.get("webhook")
    if webhook:
        rows.append(("webhook", f"{webhook.get('url')} ({', '.join(webhook.get('events') or [])})"))
    return rows


def jobs_table(page: JobPage, cell: Callable[[str], Text] = Text) -> Table:
    """The jobs of one page as a table: id, type, status, created, finished."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("ID", "TYPE", "STATUS", "CREATED", "FINISHED"):
        table.add_column(name, no_wrap=True)
    for job in page["jobs"]:
        created, finished = short_time(job["created_at"]), short_time(job["finished_at"])
        table.add_row(*map(cell, (job["id"], job["type"], describe(job), created, finished)))
    return table
