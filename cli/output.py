"""Everything the CLI prints: JSON or human text on stdout, errors on stderr, tables and bars."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from cli.client import Job, JobPage
from cli.progress import describe


@dataclass
class Output:
    """Where and how to print; with `json` stdout carries only JSON documents."""

    stdout: TextIO
    stderr: TextIO
    json: bool = False

    @property
    def interactive(self) -> bool:
        """True when a person watches stdout, so live bars and colors make sense."""
        return not self.json and self.stdout.isatty()

    def document(self, data: Any) -> None:
        """Print one JSON document on stdout."""
        self.stdout.write(json.dumps(data, indent=2) + "\n")

    def line(self, text: str) -> None:
        """Print human text on stdout (nothing in JSON mode)."""
        if not self.json:
            self.stdout.write(text + "\n")

    def error(self, message: str, errors: Iterable[dict[str, Any]] = ()) -> None:
        """Print `error: message` and one indented line per field error on stderr."""
        self.stderr.write(f"error: {message}\n")
        for item in errors:
            self.stderr.write(f"  {item.get('field', '?')}: {item.get('message', '')}\n")

    def bar_console(self) -> Console | None:
        """The console to draw progress bars on (stderr), or None when nobody watches."""
        return Console(file=self.stderr) if self.interactive else None

    def table(self, table: Table) -> None:
        """Print a rich table on stdout, wide enough for full ids when stdout is a file or pipe."""
        width = None if self.stdout.isatty() else 200
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


def job_summary(job: Job) -> str:
    """A few aligned lines describing a job for people."""
    rows = [
        ("id", job["id"]),
        ("type", job["type"]),
        ("status", describe(job)),
        ("attempts", str(job["attempts"])),
    ]
    progress = job.get("progress")
    if progress:
        rows.append(("progress", f"{progress['step']}/{progress['total']}"))
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


def jobs_table(page: JobPage) -> Table:
    """The jobs of one page as a table: id, type, status, created, finished."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", no_wrap=True)
    for name in ("TYPE", "STATUS", "CREATED", "FINISHED"):
        table.add_column(name, no_wrap=True)
    for job in page["jobs"]:
        table.add_row(
            job["id"],
            job["type"],
            describe(job),
            short_time(job["created_at"]),
            short_time(job["finished_at"]),
        )
    return table
