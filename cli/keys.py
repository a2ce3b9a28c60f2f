"""`llmb keys create|list|show|revoke`: manage the server's API keys (the key in use needs the admin scope).

`create` prints the new key alone on stdout, so `KEY=$(llmb keys create --name ci)` captures just it,
and says on stderr whose it is; the server shows the secret only in that answer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text

from cli.client import ApiError, ApiKey, KeyList
from cli.commands import Context
from cli.exits import ExitCode
from cli.options import POSITIVE_INT, duration
from cli.output import short_time
from cli.refusals import KEY_ID

SCOPES = ("jobs:read", "jobs:write", "queues:read", "admin")
# CLI option -> field of POST /v1/keys; only those given are sent, the server has the defaults.
KEY_FIELDS = {
    "tenant": "tenant",
    "scopes": "scopes",
    "expires": "expires_in_s",
    "jobs_per_minute": "jobs_per_minute",
    "max_active_jobs": "max_active_jobs",
}


def key_request(args: argparse.Namespace) -> dict[str, Any]:
    """The body of POST /v1/keys that the options describe."""
    given = {name: getattr(args, option) for option, name in KEY_FIELDS.items()}
    budget = {"device_s": args.budget_device_s, "tokens": args.budget_tokens}
    if any(v is not None for v in budget.values()):
        given["budget"] = {k: v for k, v in budget.items() if v is not None} | {"period": args.budget_period}
    return {"name": args.name, **{name: value for name, value in given.items() if value is not None}}


def show(args: argparse.Namespace, ctx: Context) -> int:
    """Show one key: its tenant, state, budget and what it spent this period."""
    key = ctx.client.key(key_id(args.id))
    if ctx.out.json:
        ctx.out.document(key)
        return ExitCode.OK
    budget, spend = key.get("budget") or {}, key.get("spend") or {}
    caps = ", ".join(
        f"{budget[k]:g} {u}" for k, u in (("device_s", "device s"), ("tokens", "tokens")) if budget.get(k)
    )
    ctx.out.line(f"{key['id']} {key['name']} tenant {key['tenant']} {key['state']}")
    ctx.out.line(f"budget: {caps + ' per ' + budget['period'] if caps else 'none'}")
    if spend:
        ctx.out.line(
            f"spent this {spend['period']}: {spend['device_s']:.3f} device s, {spend['tokens']} tokens "
            f"(resets {short_time(spend['resets_at'])} UTC)"
        )
    return ExitCode.OK


def create(args: argparse.Namespace, ctx: Context) -> int:
    """Create a key and print it: alone on stdout, whose it is on stderr."""
    made = ctx.client.create_key(key_request(args))
    if ctx.out.json:
        ctx.out.document(made)
        return ExitCode.OK
    if not made.get("key"):
        raise ApiError("the server's answer holds no key", code="protocol")
    ctx.out.line(str(made["key"]))
    ctx.out.note(key_note(made))
    return ExitCode.OK


def key_note(made: ApiKey) -> str:
    """Who a new key is for and what it may do, e.g. `key abc... for tenant t (jobs:read); ...`."""
    expires = f", expires {short_time(made['expires_at'])} UTC" if made.get("expires_at") else ""
    scopes = ", ".join(made.get("scopes") or [])
    return (
        f"key {made['id']} for tenant {made['tenant']} ({scopes}){expires}; "
        "the secret is shown only now: keep it safe"
    )


def list_keys(args: argparse.Namespace, ctx: Context) -> int:
    """List the keys (never their secrets)."""
    found = ctx.client.keys(tenant=args.tenant)
    if ctx.out.json:
        ctx.out.document(found)
    elif found["keys"]:
        ctx.out.table(keys_table(found, ctx.out.cell))
    else:
        ctx.out.line("no keys")
    return ExitCode.OK


def keys_table(found: KeyList, cell: Callable[[str], Text] = Text) -> Table:
    """The keys as a table: id, name, tenant, scopes, state, created, last used, expires."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ID", no_wrap=True)
    for name in ("NAME", "TENANT", "SCOPES", "STATE"):
        table.add_column(name)
    for name in ("CREATED", "LAST USED", "EXPIRES"):
        table.add_column(name, no_wrap=True)
    for key in found["keys"]:
        times = (
            short_time(key["created_at"]),
            short_time(key["last_used_at"]),
            short_time(key["expires_at"]),
        )
        scopes = ",".join(key.get("scopes") or [])
        table.add_row(*map(cell, (key["id"], key["name"], key["tenant"], scopes, key["state"], *times)))
    return table


def revoke(args: argparse.Namespace, ctx: Context) -> int:
    """Revoke a key: the server refuses it from then on."""
    key = ctx.client.revoke_key(key_id(args.id))
    if ctx.out.json:
        ctx.out.document(key)
    else:
        ctx.out.line(f"{key['id']} {key['state']}")
    return ExitCode.OK


def key_id(text: str) -> str:
    """A key's id, also from a whole key pasted by mistake (whose secret must not go into a URL)."""
    found = KEY_ID.match(text)
    return found.group(1) if found else text


def add_key_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`keys create`, `keys list` and `keys revoke`."""
    keys = sub.add_parser(
        "keys", help="manage API keys (admin)", description="Create, list and revoke API keys (admin scope)."
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_create(actions, after)
    listing = actions.add_parser(
        "list", parents=after, help="list the keys", description="List the API keys (never their secrets)."
    )
    listing.add_argument("--tenant", metavar="T", help="only this tenant's keys")
    listing.set_defaults(handler=list_keys)
    showing = actions.add_parser(
        "show",
        parents=after,
        help="show a key and its spend",
        description="Show a key, its budget and spend.",
    )
    showing.add_argument("id", help="the key's id, as `keys list` shows it")
    showing.set_defaults(handler=show)
    revoking = actions.add_parser(
        "revoke", parents=after, help="revoke a key", description="Revoke an API key; it is refused at once."
    )
    revoking.add_argument("id", help="the key's id, as `keys list` shows it")
    revoking.set_defaults(handler=revoke)


def add_create(actions: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`keys create` and its options."""
    create_cmd = actions.add_parser(
        "create",
        parents=after,
        help="create a key and print it",
        description="Create an API key and print it alone on stdout (the server shows it only now); "
        "whose it is goes to stderr. With --json print the whole answer.",
    )
    create_cmd.add_argument("--name", required=True, help="who or what uses the key")
    create_cmd.add_argument(
        "--tenant", metavar="T", help="whose jobs it sees (server default: from the name)"
    )
    create_cmd.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        metavar="SCOPE",
        help=f"what it may do, once per scope: {', '.join(SCOPES)} (default jobs:read and jobs:write)",
    )
    create_cmd.add_argument(
        "--expires", type=duration, metavar="DURATION", help="refuse it after 90s, 15m, 12h, 30d, 2w, ..."
    )
    create_cmd.add_argument(
        "--jobs-per-minute", type=POSITIVE_INT, metavar="N", help="its submission rate (server default)"
    )
    create_cmd.add_argument(
        "--max-active-jobs", type=POSITIVE_INT, metavar="N", help="its queued + running cap (server default)"
    )
    create_cmd.add_argument("--budget-device-s", type=float, metavar="S", help="device seconds per period")
    create_cmd.add_argument("--budget-tokens", type=POSITIVE_INT, metavar="N", help="tokens per period")
    create_cmd.add_argument("--budget-period", choices=("day", "month"), default="month", help="(month)")
    create_cmd.set_defaults(handler=create)
