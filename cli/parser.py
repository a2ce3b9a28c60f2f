"""The command line: subcommands, options and their help."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from cli import chat, commands, embed
from cli.batches import add_batch_commands
from cli.keys import add_key_commands
from cli.options import (
    INDEX,
    POSITIVE_INT,
    POSITIVE_SECONDS,
    SECONDS,
    add_chat_options,
    add_contract_options,
    add_embed_options,
    add_image_options,
)
from cli.suggest import SuggestingParser
from cli.usage import add_usage_command
from cli.webhooks import add_webhook_commands

DEFAULT_URL = "http://127.0.0.1:8000"

EPILOG = """\
environment:
  LLMB_URL       the API's base URL (default http://127.0.0.1:8000)
  LLMB_API_KEY   API key, sent as "Authorization: Bearer <key>"

exit codes:
  0  success
  1  the job failed or was canceled
  2  bad usage
  3  no such job or result (404)
  4  the API rejected the request as invalid (400, 413, 415, 422)
  5  the server is unreachable, timed out or failed (5xx), or a limit was hit (429); the
     message says when to retry
  6  the job's state forbids the request (409), e.g. canceling a finished job
  7  `wait --timeout` passed before the job ended
  8  the API key is missing, refused (401) or lacks the scope (403); the message names the
     key by its id (llmb_<id>_…), never its secret
  9  a local file could not be written
  10 a local input file could not be read (missing, a folder, no permission)
  130 interrupted (Ctrl-C); `chat` and `embed` cancel their job, other commands leave it running

examples:
  llmb chat "Write a haiku about queues" --max-tokens 64 --seed 1
  llmb embed "a cat" "a kitten" "tax law"
  llmb submit image "a red fox in snow" --steps 20 --wait -o fox.png
  llmb status 1f6e...; llmb wait 1f6e... --timeout 60; llmb result 1f6e... -o fox.png
  llmb submit image "a fox" --idempotency-key order-42 --deadline 10m --webhook https://example.com/hook
  llmb webhooks 1f6e...                                  (each attempt to deliver its webhooks)
  KEY=$(llmb --api-key "$ADMIN_KEY" keys create --name ci --scope jobs:read --expires 30d)
  llmb keys list [--tenant T]; llmb keys revoke ID       (the keys commands need the admin scope)
  llmb batch submit requests.jsonl --endpoint /v1/embeddings --wait; llmb batch download ID -o out.jsonl
  llmb usage --by key --from 2026-01-01 --to 2026-02-01  (device seconds, tokens, images per key)

On a terminal, control characters in text from the server or the model (ESC, BEL, CR, C1
controls, ...) are shown escaped, as \\x1b, so a reply cannot retitle, recolour or rewrite the
terminal; --raw prints them as they are. Pipes, files and --json always get the text as it is.

`wait` and `--wait` follow the job's event stream (GET /v1/jobs/ID/events), reconnecting where it
left off if the connection drops; servers without that endpoint are long-polled instead.
"""


def common_options(env: Mapping[str, str], *, suppress: bool) -> argparse.ArgumentParser:
    """Options valid before or after the subcommand (after it they override only when given)."""
    parser = argparse.ArgumentParser(add_help=False)
    default: Callable[[object], object] = (lambda _: argparse.SUPPRESS) if suppress else (lambda v: v)
    group = parser.add_argument_group("global options")
    url = env.get("LLMB_URL") or DEFAULT_URL
    key = env.get("LLMB_API_KEY")
    group.add_argument(
        "--url", default=default(url), help=f"the API's base URL (env LLMB_URL; default {url})"
    )
    group.add_argument("--api-key", metavar="KEY", default=default(key), help="API key (env LLMB_API_KEY)")
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print JSON on stdout and no progress bars",
    )
    group.add_argument(
        "--raw",
        action="store_true",
        default=default(False),
        help="print control characters from the server as they are, even on a terminal",
    )
    if not suppress:  # `wait --timeout` is another option, so this one goes before the command only
        group.add_argument(
            "--timeout",
            dest="http_timeout",
            type=POSITIVE_SECONDS,
            default=30.0,
            metavar="S",
            help="seconds to wait for each HTTP answer (default 30)",
        )
    return parser


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    """The `llmb` parser, with defaults taken from `env`."""
    parser = SuggestingParser(
        prog="llmb",
        description="Submit and follow jobs on an LLM Backend server.\n"
        "--url, --api-key, --json and --raw may also follow the command; --timeout goes before it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common_options(env, suppress=False)],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    after = [common_options(env, suppress=True)]
    add_run_commands(sub, after)
    add_submit(sub, after)
    add_follow_commands(sub, after)
    add_job_commands(sub, after)
    add_key_commands(sub, after)
    add_webhook_commands(sub, after)
    add_batch_commands(sub, after)
    add_usage_command(sub, after)
    return parser


def add_submit(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`submit image|chat|embed ...`: submit without following, unless --wait."""
    submit = sub.add_parser("submit", help="submit a job", description="Submit a job; print its id.")
    kinds = submit.add_subparsers(dest="kind", required=True, metavar="TYPE")
    image = kinds.add_parser(
        "image", parents=after, help="text-to-image", description="Submit a text-to-image job; print its id."
    )
    add_image_options(image)
    add_follow_options(
        image,
        output="save the image(s) there (implies --wait); with several images the first goes to FILE "
        "and the others to FILE's name plus -1, -2, ... (out.png, out-1.png, out-2.png)",
    )
    chat_job = kinds.add_parser(
        "chat", parents=after, help="a chat reply", description="Submit a chat job; print its id."
    )
    add_chat_options(chat_job)
    add_follow_options(chat_job, output="save the result JSON there (implies --wait)")
    embed_job = kinds.add_parser(
        "embed", parents=after, help="text embeddings", description="Submit an embed job; print its id."
    )
    add_embed_options(embed_job)
    add_follow_options(embed_job, output="save the result JSON there (implies --wait)")
    for kind in (image, chat_job, embed_job):
        add_contract_options(kind)
        kind.set_defaults(handler=commands.submit)


def add_follow_options(parser: argparse.ArgumentParser, *, output: str) -> None:
    """--wait and -o for `submit TYPE`."""
    parser.add_argument(
        "--wait", action="store_true", help="follow the job with a progress bar until it ends"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help=output)


def add_run_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`chat` and `embed`: submit a job, wait for it and print what it made."""
    chat_cmd = sub.add_parser(
        "chat",
        parents=after,
        help="chat with the model, the reply streamed as it is written",
        description="Send one message to the chat model and print the reply on stdout as it is written, "
        "then the finish reason and token usage on stderr. With --json print only the finished job. "
        "Ctrl-C cancels the job and exits 130.",
    )
    add_chat_options(chat_cmd)
    chat_cmd.add_argument(
        "--no-stream", action="store_true", help="print the reply once it is complete, not as it comes"
    )
    chat_cmd.set_defaults(handler=chat.chat)

    embed_cmd = sub.add_parser(
        "embed",
        parents=after,
        help="embed texts as vectors",
        description="Embed the texts and print one row per text: a preview, the dimensions, the first "
        'values and the norm. With --json print {"model", "dimensions", "embeddings"}. '
        "Ctrl-C cancels the job and exits 130.",
    )
    add_embed_options(embed_cmd)
    embed_cmd.set_defaults(handler=embed.embed)


def add_job_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`status`, `cancel` and `list`."""
    status = sub.add_parser("status", parents=after, help="show a job", description="Show a job.")
    status.add_argument("id", help="job id")
    status.set_defaults(handler=commands.status)

    cancel = sub.add_parser(
        "cancel", parents=after, help="cancel a job", description="Cancel a queued or running job."
    )
    cancel.add_argument("id", help="job id")
    cancel.set_defaults(handler=commands.cancel)

    jobs = sub.add_parser(
        "list", parents=after, help="list your newest jobs", description="List your newest jobs."
    )
    jobs.add_argument("--limit", type=POSITIVE_INT, default=20, metavar="N", help="how many (default 20)")
    jobs.set_defaults(handler=commands.list_jobs)


def add_follow_commands(sub: argparse._SubParsersAction, after: list[argparse.ArgumentParser]) -> None:
    """`wait` and `result`."""
    wait = sub.add_parser(
        "wait",
        parents=after,
        help="follow a job until it ends",
        description="Follow a job with a progress bar until it ends; exit 0 only if it succeeded.",
    )
    wait.add_argument("id", help="job id")
    wait.add_argument(
        "--timeout", dest="wait_timeout", type=SECONDS, metavar="S", help="give up after S seconds (exit 7)"
    )
    wait.add_argument(
        "-o", "--output", metavar="FILE", help="save the result there once it succeeded (as submit -o)"
    )
    wait.set_defaults(handler=commands.wait)

    result = sub.add_parser(
        "result",
        parents=after,
        help="download a finished job's result",
        description="Download a finished job's result; a JSON result is printed when no -o is given.",
    )
    result.add_argument("id", help="job id")
    result.add_argument("-o", "--output", metavar="FILE", help="write the result there ('-' for stdout)")
    result.add_argument("--index", type=INDEX, metavar="N", help="which file of several (0 is the first)")
    result.set_defaults(handler=commands.result)
