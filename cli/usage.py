"""`llmb usage`: what jobs used over a time range (GET /v1/usage), summed by tenant, key or job type."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rich.table import Table
from rich.text import Text

from cli.commands import Context
from cli.exits import ExitCode
from cli.schemas import UsageReport

GROUPS = ("tenant", "key", "type")
COLUMNS = (
    ("JOBS", "jobs"),
    ("DEVICE S", "device_s"),
    ("PROMPT TOK", "prompt_tokens"),
    ("COMPL TOK", "completion_tokens"),
    ("IMAGES", "images"),
    ("PIXEL×STEPS", "pixel_steps"),
)


def usage(args: argparse.Namespace, ctx: Context) -> int:
    """Print the usage totals of the range, one row per group."""
    params = {"group_by": args.group_by, "from": args.since, "to": args.until, "tenant": args.tenant}
    report = ctx.client.usage({k: v for k, v in params.items() if v is not None})
    if ctx.out.json:
        ctx.out.document(report)
    elif report["groups"]:
        ctx.out.table(usage_table(report, ctx.out.cell))
    else:
        ctx.out.line(f"no usage from {report['from']} to {report['to']}")
    return ExitCode.OK


def usage_table(report: UsageReport, cell: Callable[[str], Text] = Text) -> Table:
    """The groups as a table: their names, then jobs, device seconds, tokens, images, pixel × steps."""
    names = {"tenant": ["tenant"], "key": ["tenant", "key_id"], "type": ["type"]}[report["group_by"]]
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in names:
        table.add_column(name.upper().replace("_", " "), no_wrap=True)
    for title, _ in COLUMNS:
        table.add_column(title, justify="right", no_wrap=True)
    for group in report["groups"]:
        row: dict[str, object] = dict(group)
        amounts = [f"{group['device_s']:.3f}" if f == "device_s" else str(row[f]) for _, f in COLUMNS]
        table.add_row(*map(cell, [str(row[n]) for n in names] + amounts))
    return table


def add_usage_command(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`usage [--by tenant|key|type] [--from T] [--to T] [--tenant T]`."""
    cmd = sub.add_parser(
        "usage",
        parents=after,
        help="show what jobs used",
        description="Show what jobs used (device seconds, tokens, images), summed over whole hours by "
        "tenant, key or job type: a key sees its tenant's usage, an admin key everyone's.",
    )
    cmd.add_argument("--by", dest="group_by", choices=GROUPS, default="tenant", help="how to sum")
    cmd.add_argument("--from", dest="since", metavar="T", help="RFC 3339 time or date (default: a day ago)")
    cmd.add_argument("--to", dest="until", metavar="T", help="RFC 3339 time or date (default: now)")
    cmd.add_argument("--tenant", metavar="T", help="one tenant's usage (admin)")
    cmd.set_defaults(handler=usage)
