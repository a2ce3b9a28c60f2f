"""`llmb webhooks ID`: the attempts to deliver a job's webhook events, and how each ended."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rich.table import Table
from rich.text import Text

from cli.client import AttemptList
from cli.commands import Context
from cli.exits import ExitCode
from cli.output import short_time


def attempts(args: argparse.Namespace, ctx: Context) -> int:
    """List the job's webhook delivery attempts, oldest first."""
    found = ctx.client.webhook_attempts(args.id)
    if ctx.out.json:
        ctx.out.document(found)
    elif found["attempts"]:
        ctx.out.table(attempts_table(found, ctx.out.cell))
    else:
        ctx.out.line(f"no webhook attempts for job {args.id} yet")
    return ExitCode.OK


def attempts_table(found: AttemptList, cell: Callable[[str], Text] = Text) -> Table:
    """The attempts as a table: when, event, the receiver's status or the error, outcome, next try."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("TIME", "EVENT", "ANSWER", "OUTCOME", "NEXT TRY"):
        table.add_column(name, no_wrap=name != "ANSWER")
    for attempt in found["attempts"]:
        code = attempt.get("status_code")
        answer = str(code) if code is not None else attempt.get("error") or "-"
        row = (
            short_time(attempt["at"]),
            attempt["event"],
            answer,
            attempt["outcome"],
            short_time(attempt.get("next_attempt_at")),
        )
        table.add_row(*map(cell, row))
    return table


def add_webhook_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`webhooks ID`."""
    hooks = sub.add_parser(
        "webhooks",
        parents=after,
        help="list a job's webhook deliveries",
        description="List the attempts to deliver a job's webhook events, oldest first: when, which event, "
        "the receiver's HTTP status or the error, the outcome (delivered, retrying, stopped, gave_up) "
        "and the next try.",
    )
    hooks.add_argument("id", help="job id")
    hooks.set_defaults(handler=attempts)
