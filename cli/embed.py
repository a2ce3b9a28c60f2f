"""`llmb embed`: texts in, vectors out, as a short table for people or as JSON for programs.

The table has one row per text: a preview of it, the vector's dimensions, its first few values and
its norm. With --json stdout carries `{"model": ..., "dimensions": ..., "embeddings": [[...], ...]}`.
Ctrl-C cancels the job and exits 130.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from rich.table import Table
from rich.text import Text

from cli.commands import Context, track
from cli.exits import ExitCode
from cli.options import embed_input
from cli.output import job_failure

PREVIEW_CHARS = 40
FIRST_VALUES = 4


def embed(args: argparse.Namespace, ctx: Context) -> int:
    """Submit an embed job, wait for it, and print its vectors."""
    job = ctx.client.submit("embed", embed_input(args))
    ctx.cancel_on_interrupt = job["id"]
    last = track(ctx, job["id"], first=job)
    ctx.cancel_on_interrupt = None
    if last is None or last["status"] != "succeeded":
        ctx.out.error(job_failure(last or job))
        return ExitCode.JOB_FAILED
    result: dict[str, Any] = last.get("result") or {}
    vectors: list[list[float]] = result.get("embeddings") or []
    if ctx.out.json:
        dimensions = result.get("dimensions", len(vectors[0]) if vectors else 0)
        ctx.out.document({"model": result.get("model"), "dimensions": dimensions, "embeddings": vectors})
    else:
        ctx.out.table(vectors_table(args.texts, vectors))
    return ExitCode.OK


def vectors_table(texts: list[str], vectors: list[list[float]]) -> Table:
    """One row per text: its index, a preview, the dimensions, the first values and the norm."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("TEXT", no_wrap=True)
    table.add_column("DIMS", justify="right")
    table.add_column("FIRST VALUES", no_wrap=True)
    table.add_column("NORM", justify="right")
    for index, (text, vector) in enumerate(zip(texts, vectors, strict=False)):
        first = "  ".join(f"{x:+.4f}" for x in vector[:FIRST_VALUES])
        more = " …" if len(vector) > FIRST_VALUES else ""
        table.add_row(str(index), Text(preview(text)), str(len(vector)), first + more, f"{norm(vector):.4f}")
    return table


def preview(text: str, width: int = PREVIEW_CHARS) -> str:
    """The text on one line, cut to `width` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def norm(vector: list[float]) -> float:
    """The vector's Euclidean length."""
    return math.sqrt(math.fsum(x * x for x in vector))
