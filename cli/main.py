"""The `llmb` entry point: parse the command line, run one command, map failures to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

import httpx

from cli.client import ApiClient, ApiError
from cli.commands import Context, interrupted
from cli.exits import ExitCode, exit_code_for
from cli.files import cannot_write
from cli.output import Output
from cli.parser import build_parser
from cli.refusals import explain
from cli.state import state_dir
from cli.suggest import parse_suggesting

Handler = Callable[[argparse.Namespace, Context], int]


def main(
    argv: list[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run `llmb` with `argv` and return its exit code; tests inject the environment and transport."""
    try:
        args = parse(argv, os.environ if env is None else env)
    except SystemExit as exc:  # argparse exits after --help (0) and on bad usage (2)
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    out = Output(stdout or sys.stdout, stderr or sys.stderr, json=args.json, raw=args.raw)
    with ApiClient(
        args.url, api_key=args.api_key or None, timeout=args.http_timeout, transport=transport
    ) as client:
        return run(args.handler, args, Context(client, out))


def parse(argv: list[str] | None, env: Mapping[str, str]) -> argparse.Namespace:
    """The parsed command line; argparse raises SystemExit on bad usage."""
    parser = build_parser(env)
    args = parse_suggesting(parser, argv)
    if not args.url.startswith(("http://", "https://")):
        parser.error(f"--url must start with http:// or https://, not {args.url!r}")
    from_env = bool(args.api_key) and args.api_key == env.get("LLMB_API_KEY")
    args.key_source = "LLMB_API_KEY" if from_env else "--api-key"
    args.state_dir = state_dir(env)
    return args


def run(handler: Handler, args: argparse.Namespace, ctx: Context) -> int:
    """Call the command's handler and turn each kind of failure into a message and an exit code."""
    unwritable = cannot_write(getattr(args, "output", None))
    if unwritable:  # said before the job runs, not after
        ctx.out.error(unwritable)
        return ExitCode.FILE_ERROR
    try:
        return int(handler(args, ctx))
    except ApiError as exc:
        ctx.out.error(explain(exc, key=args.api_key, source=args.key_source), exc.errors)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        ctx.out.error(interrupted(ctx))
        return ExitCode.INTERRUPTED
    except OSError as exc:
        ctx.out.error(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}")
        return ExitCode.FILE_ERROR
